"""The printed tables: per page and connection count the app's and the bare page's req/s,
p50 and p99, their ratio and the target; the server comparison; the load average."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tests.bench.load.drive import Result

RATIO_TARGET, P99_TARGET_MS, TARGET_CONNECTIONS = 0.6, 50.0, 16


@dataclass(frozen=True)
class Row:
    server: str
    page: str
    connections: int
    app: Result | None
    bare: Result | None

    @property
    def ratio(self) -> float | None:
        if self.app is None or self.bare is None or not self.bare.rps:
            return None
        return self.app.rps / self.bare.rps

    @property
    def verdict(self) -> str:
        if self.connections != TARGET_CONNECTIONS or self.app is None or self.ratio is None:
            return ""
        met = self.ratio >= RATIO_TARGET and self.app.p99 < P99_TARGET_MS
        return "meets" if met else "MISSES"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def _cells(r: Result | None) -> str:
    if r is None:
        return f"{'—':>9} {'—':>7} {'—':>7}"
    flag = "" if r.ok else f" !{r.bad}"
    return f"{r.rps:9.1f} {r.p50:7.1f} {r.p99:7.1f}{flag}"


def table(rows: list[Row], title: str) -> str:
    head = (
        f"{'page':<13} {'conns':>5} │ {'app req/s':>9} {'p50 ms':>7} {'p99 ms':>7} │"
        f" {'bare req/s':>9} {'p50 ms':>7} {'p99 ms':>7} │ {'ratio':>5}  target  load"
    )
    lines = [title, head, "─" * len(head)]
    for r in rows:
        ratio = f"{r.ratio:5.2f}" if r.ratio is not None else "    —"
        either = r.app or r.bare
        load = either.load if either else 0.0
        lines.append(
            f"{r.page:<13} {r.connections:>5} │ {_cells(r.app)} │ {_cells(r.bare)} │ {ratio}"
            f"  {r.verdict:<6}  {load:4.2f}"
        )
    lines.append(
        f"ratio = app req/s ÷ bare req/s; target at {TARGET_CONNECTIONS} connections:"
        f" ratio ≥ {RATIO_TARGET} and app p99 < {P99_TARGET_MS:g} ms; '!n' = n non-2xx answers,"
        " socket errors or a failed 200 check; load = 1-min load average at the end of the run"
    )
    return "\n".join(lines)


def servers(rows: list[Row], connections: int) -> str:
    """The app on each server at ``connections``: req/s and p99 side by side."""
    names = list(dict.fromkeys(r.server for r in rows))
    if len(names) < 2:
        return ""
    first, second = names[0], names[1]
    by = {(r.server, r.page): r.app for r in rows if r.connections == connections and r.app}
    lines = [
        f"\nServer choice: the app at {connections} connections",
        f"{'page':<13} │ {first + ' req/s':>15} {'p99':>7} │ {second + ' req/s':>15} {'p99':>7}"
        f" │ {second}/{first}",
    ]
    sums = [0.0, 0.0]
    for page in dict.fromkeys(r.page for r in rows):
        a, b = by.get((first, page)), by.get((second, page))
        if a is None or b is None:
            continue
        sums[0] += a.rps
        sums[1] += b.rps
        lines.append(
            f"{page:<13} │ {a.rps:15.1f} {a.p99:7.1f} │ {b.rps:15.1f} {b.p99:7.1f} │"
            f" {b.rps / a.rps:6.2f}×"
        )
    if sums[0]:
        faster = second if sums[1] > sums[0] else first
        lines.append(
            f"sum of req/s: {first} {sums[0]:.1f}, {second} {sums[1]:.1f} → {faster} by"
            f" {abs(sums[1] / sums[0] - 1) * 100:.0f} %"
        )
    return "\n".join(lines)
