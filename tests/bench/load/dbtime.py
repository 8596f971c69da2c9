"""The database's share: each recorded data statement of a page run alone, ``runs`` times,
on one connection as the app role under the RLS settings the page had at that point (median
server round trip, ms).  The sum is a floor for the page's latency that no web-side change
lowers; on two shared cores PostgreSQL's CPU also caps req/s for both the app and the bare
page."""

from __future__ import annotations

import time
from typing import Any

from tests.bench.load.capture import Page


async def statement_times(url: str, pages: list[Page], runs: int = 9) -> str:
    import asyncpg

    con = await asyncpg.connect(url, server_settings={"plan_cache_mode": "force_custom_plan"})
    lines = [f"\nDatabase time per statement (median of {runs}, app role, RLS on, one connection)"]
    try:
        for page in pages:
            timed: list[tuple[float, int, str]] = []
            scope: Any = None
            for s in page.data:
                if s.kind == "scope":
                    scope = s
                    continue
                samples = []
                rows: list[Any] = []
                for _ in range(runs):
                    async with con.transaction():
                        if scope is not None:
                            await con.fetch(scope.sql, *scope.args)
                        started = time.perf_counter()
                        rows = await con.fetch(s.sql, *s.args)
                        samples.append(time.perf_counter() - started)
                samples.sort()
                timed.append((samples[len(samples) // 2] * 1000, len(rows), s.sql))
            total = sum(t for t, _, _ in timed)
            lines.append(f"  {page.name}: {len(timed)} statements, {total:.1f} ms in all; slowest:")
            for ms, n, sql in sorted(timed, reverse=True)[:3]:
                text = " ".join(sql.replace('"', "").split())
                lines.append(f"    {ms:7.2f} ms {n:6d} rows  {text[:120]}")
    finally:
        await con.close()
    return "\n".join(lines)
