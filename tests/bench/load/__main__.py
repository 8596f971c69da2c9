"""The load benchmark (issue 8): ``python -m tests.bench.load --help``.

Seeds a throwaway database (PostgreSQL: the manifests plus ``--centres`` generated centres,
``--months`` months of reports and cases and this month's cases so far; SQLite: a smaller
world), starts the app with ``--workers`` worker processes (SQLite: one) on uvicorn and on
granian, drives the case list, a case page, the report grid and the supervision dashboard
with wrk at each ``--connections``, and does the same against the bare Starlette + Jinja2 +
asyncpg/aiosqlite page (bare.py) that runs the same statements by hand.  Prints req/s, p50,
p99, the ratio app ÷ bare, the server comparison and a profile of the page furthest from its
bare page.  The database is dropped at the end (``--keep`` keeps it, ``--reuse`` measures a
kept one again without seeding).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.load import drive, report, seed, servers
from tests.bench.load.seed import say

SIZES = {"pg": (30, 24, 600), "sqlite": (5, 12, 300)}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.load", description=__doc__)
    p.add_argument("--engines", default="pg,sqlite", help="pg, sqlite or both (default)")
    p.add_argument("--centres", type=int, help="generated centres, PostgreSQL (30)")
    p.add_argument("--months", type=int, help="months of reports and cases, PostgreSQL (24)")
    p.add_argument("--per-month", type=int, help="cases per centre-month, PostgreSQL (600)")
    p.add_argument("--sqlite-size", default="", help="centres,months,per-month (5,12,300)")
    p.add_argument("--connections", default="16,64")
    p.add_argument("--duration", type=float, default=12.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per run")
    p.add_argument("--workers", type=int, default=2, help="web workers on PostgreSQL")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument(
        "--servers",
        default="uvicorn,granian",
        help="the first runs every connection count; the others the first count only",
    )
    p.add_argument(
        "--app-root",
        type=Path,
        default=servers.ROOT,
        help="import the app from this tree (a copy with a patch applied): the servers, the"
        " recorded statements and the profile; the bare page stays this tree's",
    )
    p.add_argument("--pages", default="", help="comma-separated subset of the four pages")
    p.add_argument("--profile", default="auto", help="page to profile, auto (lowest ratio), none")
    p.add_argument("--profile-requests", type=int, default=200)
    p.add_argument("--keep", action="store_true", help="keep the database (and the logs)")
    p.add_argument("--reuse", metavar="DATABASE", help="a bianmin_bench_load_<n> to measure")
    p.add_argument("--reuse-sqlite", metavar="DIR", help="the VAR_DIR of a kept SQLite run")
    args = p.parse_args(argv)
    args.engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.conns = [int(c) for c in args.connections.split(",")]
    args.server_list = [s.strip() for s in args.servers.split(",") if s.strip()]
    for name in args.server_list:
        if name not in servers.SERVERS:
            p.error(f"unknown server {name}")
    if len(args.engine_list) == 1 and args.engine_list[0] == "sqlite":
        given = [int(x) for x in args.sqlite_size.split(",")] if args.sqlite_size else []
        args.size = seed.Size(*(given or SIZES["sqlite"]))
    else:
        centres, months, per_month = SIZES["pg"]
        args.size = seed.Size(
            args.centres or centres, args.months or months, args.per_month or per_month
        )
    return args


def month_now() -> tuple[int, int, int]:
    from app.reports.periods import local_today, month_of, previous_month

    today = local_today()
    current = month_of(today)
    return previous_month(current), current, today.day


def prepare_world(args: argparse.Namespace, target: Any) -> str:
    """Seed the database (unless reused); returns a line describing its size."""
    from app import db

    if (target.engine == "pg" and args.reuse) or (target.engine == "sqlite" and args.reuse_sqlite):
        return f"reused {target.database or target.var_dir}"
    last, current, day = month_now()
    asyncio.run(seed.prepare(target))
    info = seed.generate(target, args.size, last, current, day)

    async def sweeps() -> dict[str, float]:
        db.enable_wal()
        await db.open_pool(1, 4)
        try:
            return await seed.sweeps()
        finally:
            await db.close_pool()

    phases = {**info["phases"], **asyncio.run(sweeps())}
    say("Seeding (seconds): " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    rows = info["rows"]
    say("Rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    cases = rows["service_case"] + rows["service_case (this month)"]
    return (
        f"{info['centres']} centres (3 from tenants/ + {args.size.centres} generated) ×"
        f" {args.size.months} months + this month to yesterday, {cases:,} cases"
    )


def capture_pages(target: Any, log_dir: Path) -> tuple[list[Any], dict[str, Any], Path]:
    from app import db
    from tests.bench.load import capture

    logins = seed.sessions(target, [seed.SUPERVISOR, seed.MANAGER])
    pages = seed.pages(target, logins)

    async def run() -> list[Any]:
        db.use_url(target.app_url)
        await db.open_pool(1, 4)
        try:
            return await capture.capture(pages)
        finally:
            await db.close_pool()

    found = asyncio.run(run())
    path = log_dir / f"pages-{target.engine}.pickle"
    capture.save(found, path)
    return found, pages, path


def measure(
    args: argparse.Namespace, target: Any, wanted: dict[str, Any], pickle: Path, log_dir: Path
) -> list[report.Row]:
    workers = args.workers if target.engine == "pg" else 1
    env = {"BENCH_BARE_PAGES": str(pickle), "BENCH_BARE_DB": target.app_url}
    env.setdefault("LOG_FORMAT", os.environ.get("LOG_FORMAT", "json"))
    first_page = next(iter(wanted.values()))
    probe = (first_page[0], first_page[1].cookie)
    found: dict[tuple[str, str, int, str], drive.Result] = {}
    extra, log_config = servers.app_settings(target.var_dir, workers, log_dir)
    for i, server in enumerate(args.server_list):
        conns = args.conns if i == 0 else args.conns[:1]
        for what in ("app", "bare"):
            root = args.app_root if what == "app" else servers.ROOT
            own = {**env, **extra} if what == "app" and server == "granian" else env
            with servers.serving(
                server, what, workers, own, probe, log_dir, root, log_config
            ) as running:
                say(f"  {running.name}: {report.load_average()}")
                for name, (path, login) in wanted.items():
                    for c in conns:
                        result = drive.drive(
                            running.base + path,
                            login.cookie,
                            c,
                            args.duration,
                            args.warmup,
                            args.wrk_threads,
                        )
                        found[(server, name, c, what)] = result
                        say(
                            f"    {name:<12} c={c:<3} {result.rps:8.1f} req/s  p50"
                            f" {result.p50:6.1f}  p99 {result.p99:6.1f} ms"
                            + ("" if result.ok else f"  ({result.bad} bad)")
                        )
    return [
        report.Row(
            server,
            name,
            c,
            found.get((server, name, c, "app")),
            found.get((server, name, c, "bare")),
        )
        for i, server in enumerate(args.server_list)
        for name in wanted
        for c in (args.conns if i == 0 else args.conns[:1])
    ]


def profile_page(
    args: argparse.Namespace,
    rows: list[report.Row],
    wanted: dict[str, Any],
    pickle: Path,
    log_dir: Path,
) -> None:
    from app import db
    from app.main import create_app
    from tests.bench.load import bare, capture, profiling

    candidates = [r for r in rows if r.ratio is not None and r.connections == args.conns[0]]
    if args.profile == "none" or not candidates:
        return
    if args.profile == "auto":
        name = min(candidates, key=lambda r: r.ratio or 0).page
    else:
        name = args.profile
    path, login = wanted[name]
    n = args.profile_requests
    os.environ["BENCH_BARE_PAGES"] = str(pickle)
    os.environ["BENCH_BARE_DB"] = os.environ["DATABASE_URL"]

    async def run() -> str:
        db.use_url(os.environ["DATABASE_URL"])
        await db.open_pool(1, 4)
        app = create_app()
        lean = bare.create_app()
        try:
            async with lean.router.lifespan_context(lean):
                app_ms = await profiling.timed(lambda: capture.call(app, path, login.cookie), n)
                bare_ms = await profiling.timed(lambda: capture.call(lean, path, login.cookie), n)
                text = await profiling.profile(
                    lambda: capture.call(app, path, login.cookie), n, log_dir / "app.prof"
                )
        finally:
            await db.close_pool()
        return (
            f"  one request at a time, in process ({n} each): app {app_ms:.2f} ms,"
            f" bare {bare_ms:.2f} ms per request\n{text}"
        )

    say(f"\nProfile of the {name} page ({path}), {report.load_average()}")
    say(asyncio.run(run()))


def run_engine(args: argparse.Namespace, engine: str) -> None:
    if args.app_root != servers.ROOT:  # before the first import of app
        sys.path.insert(0, str(args.app_root))
    from tests.bench.rollup import database

    admin = os.environ.get("TEST_PG_ADMIN_URL") or database.DEFAULT_ADMIN
    if engine == "pg":
        target = (
            seed.attach_postgres(admin, args.reuse) if args.reuse else seed.create_postgres(admin)
        )
    else:
        target = seed.create_sqlite(args.reuse_sqlite)
    database.environment(target)
    log_dir = Path(tempfile.mkdtemp(prefix="bianmin-bench-load-logs-"))
    reused = bool(args.reuse if engine == "pg" else args.reuse_sqlite)
    say(f"\n=== {engine}: {target.database or target.var_dir} — {report.load_average()}")
    try:
        started = time.perf_counter()
        size = prepare_world(args, target)
        say(f"World: {size} ({time.perf_counter() - started:.0f} s)")
        found, pages, pickle = capture_pages(target, log_dir)
        wanted = {k: v for k, v in pages.items() if not args.pages or k in args.pages.split(",")}
        for page in found:
            if page.name in wanted:
                say(f"  {page.name:<12} {page.path}: {page.summary()}")
        if engine == "pg":
            from tests.bench.load import dbtime

            chosen = [p for p in found if p.name in wanted]
            say(asyncio.run(dbtime.statement_times(target.app_url, chosen)))
        rows = measure(args, target, wanted, pickle, log_dir)
        kind = (
            f"PostgreSQL, app role (RLS on), {args.workers} workers"
            if engine == "pg"
            else "SQLite embedded, 1 worker (bare: one shared aiosqlite connection)"
        )
        title = (
            f"\n{kind}; {size}; wrk -t{args.wrk_threads}, {args.duration:g} s after"
            f" {args.warmup:g} s warm-up; {report.load_average()}"
            + (f"; app from {args.app_root}" if args.app_root != servers.ROOT else "")
        )
        for server in args.server_list:
            mine = [r for r in rows if r.server == server]
            say(report.table(mine, f"{title}\n[{server}]"))
        say(report.servers(rows, args.conns[0]))
        profile_page(args, rows, wanted, pickle, log_dir)
    finally:
        if args.keep:
            say(f"logs: {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
        if args.keep or reused:
            say(f"kept: {target.admin_url or target.var_dir}")
            if target.engine == "pg":  # the database is what is kept, not this run's VAR_DIR
                shutil.rmtree(target.var_dir, ignore_errors=True)
        else:
            seed.drop(target)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    drive.wrk_path()
    say(f"Load benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {report.load_average()}")
    if len(args.engine_list) > 1:  # one process per engine: the app reads its settings once
        rest = list(argv if argv is not None else sys.argv[1:])
        code = 0
        for engine in args.engine_list:
            cmd = [sys.executable, "-m", "tests.bench.load", *rest, "--engines", engine]
            code = max(code, subprocess.run(cmd, check=False).returncode)
        return code
    run_engine(args, args.engine_list[0])
    say(f"\nDone — {report.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
