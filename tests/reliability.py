"""The suite's reliability figures, counted by the tests and printed once at the end.

Tests call :func:`record` (``record("probes")``, ``record("server_errors", 2)`` …); each
xdist worker hands its counts to the controller through ``workeroutput`` and the controller
prints one summary under the test results.  Without xdist the one process prints it.

Counters (names are fixed so a typo fails loudly):

* ``probes`` / ``leaks``: cross-tenant requests made / answers that showed another
  tenant's data (a leak also fails its test);
* ``hostile_inputs`` / ``hostile_files`` / ``server_errors``: hostile form values and
  uploads tried / 5xx answers seen to them;
* ``faults`` / ``records_lost``: faults injected (killed workers, dead databases, wiped
  stores) / records or files missing or duplicated afterwards.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

NAMES = (
    "probes",
    "leaks",
    "hostile_inputs",
    "hostile_files",
    "server_errors",
    "faults",
    "records_lost",
)
_counts: Counter[str] = Counter()
_totals: Counter[str] = Counter()


def record(name: str, n: int = 1) -> None:
    """Add ``n`` to counter ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"unknown reliability counter {name!r}; one of {NAMES}")
    _counts[name] += n


def counts() -> dict[str, int]:
    return {name: _counts[name] for name in NAMES}


def summary_lines(totals: dict[str, int]) -> list[str]:
    t = {name: totals.get(name, 0) for name in NAMES}
    return [
        f"cross-tenant: {t['probes']} probes run, {t['leaks']} leaks found",
        f"hostile input: {t['hostile_inputs']} inputs and {t['hostile_files']} files tried, "
        f"{t['server_errors']} responses 5xx",
        f"faults: {t['faults']} injected, {t['records_lost']} records lost",
    ]


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["reliability"] = counts()
    else:
        _totals.update(_counts)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: add a finished worker's counts."""
    _totals.update(getattr(node, "workeroutput", {}).get("reliability", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(_totals.values()):
        return
    terminalreporter.section("reliability")
    for line in summary_lines(dict(_totals)):
        terminalreporter.write_line(line)
