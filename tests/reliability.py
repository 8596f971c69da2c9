"""The suite's reliability figures, counted by the tests and printed once at the end.

Tests call :func:`record` (``record("probes")``, ``record("server_errors", 2)`` …); each
xdist worker hands its counts to the controller through ``workeroutput`` and the controller
prints one summary under the test results.  Without xdist the one process prints it.

Counters (names are fixed so a typo fails loudly):

* ``probes`` / ``leaks``: cross-tenant requests made / answers that showed (or changed)
  another tenant's data (a leak also fails its test);
* ``hostile_inputs`` / ``hostile_files`` / ``server_errors``: hostile requests (form values,
  query strings, paths) and hostile files (upload parts) tried / 5xx answers seen to them;
* ``faults`` / ``records_lost``: faults injected (killed workers, dead databases, wiped
  stores) / records or files missing or duplicated afterwards.

Helpers count at the request: :func:`probe` (one cross-tenant request and whether its answer
leaked), :func:`cross_tenant` (the same, judged from the response) and :func:`hostile` (sends
one hostile request and counts it and a 5xx).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
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


def probe(leaked: bool) -> bool:
    """Count one cross-tenant request and, if ``leaked`` (its answer showed the other tenant's
    data), one leak; returns ``leaked`` so the caller asserts on it after counting."""
    record("probes")
    if leaked:
        record("leaks")
    return leaked


def cross_tenant(response: Any, *, shows: str = "", listing: bool = False) -> Any:
    """Count ``response`` as one cross-tenant request and return it.  A leak: the answer holds
    ``shows`` (a text only the other tenant has), or it served the other tenant's object (a
    2xx; for a POST also a 3xx, the redirect after a change) — unless ``listing``: an own page
    that must merely not show the other tenant's rows."""
    status = response.status_code
    served = status < 300 or (status < 400 and response.request.method not in ("GET", "HEAD"))
    probe(bool(shows and shows in response.text) or (served and not listing))
    return response


def hostile(send: Callable[..., Any], *args: Any, uploads: int | None = None, **kwargs: Any) -> Any:
    """``send(*args, **kwargs)`` (e.g. ``client.request``) one hostile request and count it:
    one hostile file per upload part (those in ``files=``, or ``uploads`` when a helper of the
    test builds them), else one hostile input; and one server error for a 5xx answer or an
    exception (what the test client raises instead of a 500), which is re-raised."""
    files = len(kwargs.get("files") or ()) if uploads is None else uploads
    if files:
        record("hostile_files", files)
    else:
        record("hostile_inputs")
    try:
        response = send(*args, **kwargs)
    except Exception:
        record("server_errors")
        raise
    if response.status_code >= 500:
        record("server_errors")
    return response


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
