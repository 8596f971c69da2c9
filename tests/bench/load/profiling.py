"""Where an app page spends its time, in this process: the page called ``n`` times one after
another through the app's ASGI app (the pool open, no server, no load tool), under cProfile,
next to the bare page called the same way.  cProfile counts a coroutine only while it runs,
so the figures are CPU time of the Python code (the waits on PostgreSQL are not in them);
the wall time per request is printed as well."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

# (label, file fragment, function name): cumulative CPU time per request of each.
GROUPS = (
    ("whole request (outermost ASGI call)", "app/main.py", "__call__"),
    ("session lookup (SessionMiddleware._load)", "app/accounts/sessions.py", "_load"),
    ("tenant tree (query + Tree.of)", "app/tenancy/queries.py", "tree"),
    ("memberships (tenant middleware)", "app/accounts/queries/__init__.py", "my_memberships"),
    ("scope for the user (for_user)", "app/tenancy/scope.py", "for_user"),
    ("route endpoint (view + render)", "starlette/routing.py", "app"),
    ("render(): context + unread count + template", "app/web/templating.py", "render"),
    ("  Jinja2 template rendering", "jinja2/environment.py", "render"),
    ("db.read(): BEGIN + set_config (+ body)", "app/db.py", "read"),
    ("  db.set_scope (set_config)", "app/db.py", "set_scope"),
    ("Piccolo Query.run (build + run + convert)", "piccolo/query/base.py", "run"),
    ("  Piccolo compile_string (SQL text)", "piccolo/querystring.py", "compile_string"),
    (
        "  Piccolo column __getattribute__ (joins)",
        "piccolo/columns/column_types.py",
        "__getattribute__",
    ),
    ("asyncpg fetch (client side)", "asyncpg/connection.py", "fetch"),
    ("asyncpg pool release (reset query)", "asyncpg/pool.py", "release"),
    ("aiosqlite connect (SQLite: a thread per query)", "aiosqlite/core.py", "_connect"),
)


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> float:
    """Mean wall milliseconds of ``call`` run ``n`` times in a row."""
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - started) * 1000 / n


def _cumulative(stats: pstats.Stats, fragment: str, name: str) -> float:
    total = 0.0
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (file, _line, function), (_cc, _nc, _tt, ct, _callers) in table.items():
        if function == name and file.endswith(fragment):
            total += ct
    return total


async def profile(call: Callable[[], Awaitable[Any]], n: int, out: Path) -> str:
    """cProfile ``n`` calls; the groups above and the top functions, per request (ms)."""
    await call()
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    for _ in range(n):
        await call()
    wall = (time.perf_counter() - started) * 1000 / n
    profiler.disable()
    profiler.dump_stats(str(out))
    stats = pstats.Stats(profiler)
    lines = [f"  wall time per request under the profiler: {wall:.2f} ms (cProfile inflates it)"]
    lines.append("  CPU per request (cumulative, ms):")
    for label, fragment, name in GROUPS:
        ms = _cumulative(stats, fragment, name) * 1000 / n
        if ms:
            lines.append(f"    {label.ljust(48)} {ms:7.2f}")
    lines.append("  top functions by own time (ms per request, calls per request):")
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:18]
    for (file, line, function), (_cc, nc, tt, _ct, _callers) in ranked:
        where = "/".join(Path(file).parts[-2:]) if file != "~" else "builtin"
        lines.append(f"    {tt * 1000 / n:7.3f}  {nc / n:7.1f}×  {function} ({where}:{line})")
    lines.append(f"  full profile: {out} (python -m pstats {out})")
    return "\n".join(lines)
