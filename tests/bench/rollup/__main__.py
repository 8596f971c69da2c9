"""The roll-up benchmark (issue 6, "Speed"): ``python -m tests.bench.rollup --help``.

Creates a throwaway database, migrates it with the app's own migrate, applies the
``tenants/`` manifests, loads a generated world of the given size, then times the
division-wide grid and field totals (the app's code, a d4 supervisor's scope, the app
role with row-level security, a connection pool) next to plain ``SELECT count(*)`` over
the same rows, and how far behind a case change or a submission the figures can be.
The database is dropped at the end, also on failure (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tests.bench.rollup import database

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = {"pg": (50, 12, 500_000), "sqlite": (20, 12, 50_000)}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.rollup", description=__doc__)
    p.add_argument("--engine", choices=("pg", "sqlite"), default="pg")
    p.add_argument("--tenants", type=int, help="filing centres (pg 50, sqlite 20)")
    p.add_argument("--months", type=int, help="months of reports and cases (12)")
    p.add_argument("--cases", type=int, help="cases in all (pg 500000, sqlite 50000)")
    p.add_argument(
        "--events",
        choices=("full", "counted"),
        default="full",
        help="case timeline: every event (default) or only those the figures count",
    )
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--budget", type=float, default=30.0, help="max seconds per operation")
    p.add_argument("--target-ms", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--explain", action="store_true", help="print the plans (PostgreSQL)")
    p.add_argument(
        "--try-custom-plans",
        action="store_true",
        help="after measuring, plan every statement of the app role with its values"
        " (plan_cache_mode = force_custom_plan) and measure again (PostgreSQL); the other"
        " --try-* steps follow, cumulatively",
    )
    p.add_argument(
        "--try-rls-initplan",
        action="store_true",
        help="then re-create the RLS policies with the id sets as InitPlans (PostgreSQL)",
    )
    p.add_argument(
        "--try-subtree-once",
        action="store_true",
        help="then compute the subtree once per grid (patched in the bench)",
    )
    p.add_argument(
        "--try-running-totals",
        action="store_true",
        help="then build the running-totals prototype and time totals from it",
    )
    p.add_argument(
        "--try-index",
        action="append",
        default=[],
        metavar="SQL",
        help="then run this DDL (e.g. CREATE INDEX) and measure again (repeatable)",
    )
    p.add_argument("--keep", action="store_true", help="do not drop the database")
    p.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="measure a database a --keep run left (no load; never dropped); what earlier"
        " --try-* steps changed in it stays changed",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = p.parse_args(argv)
    tenants, months, cases = DEFAULTS[args.engine]
    args.tenants = args.tenants or tenants
    args.months = args.months or months
    args.cases = args.cases if args.cases is not None else cases
    return args


def say(text: str = "") -> None:
    print(text, flush=True)


async def prepare(target: database.Target) -> None:
    from app import db, maintenance
    from app.tenancy.apply import apply_path

    db.use_url(target.maint_url)
    await maintenance.migrate(app_role=maintenance.app_role_from_url(target.app_url))
    await apply_path(ROOT / "tenants")
    db.use_url(target.app_url)


def generate(args: argparse.Namespace, target: database.Target, last: int) -> dict[str, float]:
    from tests.bench.rollup import load

    phases: dict[str, float] = {}
    loader = load.Loader(
        target.engine,
        target.admin_url or target.app_url,
        target.sqlite_path if target.engine == "sqlite" else None,
    )
    try:
        started = time.perf_counter()
        world = load.reference(loader, args.months, last)
        load.centres(loader, world, args.tenants)
        load.adoptions(loader, world)
        load.periods(loader, world)
        r63 = next(c.id for c in world.centres if c.slug == "r63")
        world.skip = {(r63, world.months[-1])}  # submitted live below
        loader.commit()
        phases["reference rows"] = time.perf_counter() - started
        counted = load.load(loader, world, args.cases, args.events, args.seed, phases)
    finally:
        loader.close()
    started = time.perf_counter()
    load.analyze(target.engine, target.admin_url, target.sqlite_path)
    phases["vacuum + analyze"] = time.perf_counter() - started
    say(
        f"centres {len(world.centres)}, months {world.months[0]}–{world.months[-1]}, rows: "
        + ", ".join(f"{k} {v:,}" for k, v in counted.items())
    )
    return phases


async def bench(args: argparse.Namespace, target: database.Target) -> bool:
    from app import db
    from app.metrics import month_key
    from app.reports.periods import previous_month
    from tests.bench.rollup import experiments, freshness, measure, prototype

    last = previous_month(month_key(datetime.now(UTC)))
    phases: dict[str, float] = {}
    if args.reuse:
        db.use_url(target.app_url)
    else:
        await prepare(target)
        phases = generate(args, target, last)
    if target.engine == "sqlite":
        db.enable_wal()
    settings_pool = int(os.environ["DB_POOL_MIN_SIZE"]), int(os.environ["DB_POOL_MAX_SIZE"])
    await db.open_pool(*settings_pool)
    try:
        pairs, seconds = await freshness.sweep_all()
        phases[f"case_month_stat: refresh() of {pairs} marked centre-months"] = seconds
        say("\nLoad (seconds)")
        for name, value in phases.items():
            say(f"  {name.ljust(60)} {value:9.1f}")
        say(f"  {'total'.ljust(60)} {sum(phases.values()):9.1f}")

        say(f"\nload average before measuring: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
        ctx = await measure.context(last, args.months)
        ops = measure.operations(ctx)
        results = [await measure.measure(op, args.runs, args.warmup, args.budget) for op in ops]
        size = f"{args.cases:,} cases" if not args.reuse else f"reused {args.reuse}"
        title = (
            f"\nRoll-up, {args.engine}: {len(ctx.centre_ids)} centres × {args.months} months,"
            f" {size} — d4 supervisor scope"
            + (", app role (RLS on), pool" if target.engine == "pg" else " (no RLS on SQLite)")
        )
        say(measure.table(results, title, args.target_ms))
        say(f"  load average after: {os.getloadavg()[0]:.2f}")
        passed = all(r.pct(0.95) < args.target_ms for r in results if r.target)

        rng = random.Random(args.seed + 1)
        one, busy = await freshness.refresh_times(ctx, min(args.runs, 20), rng)
        say(
            measure.table(
                [one, busy],
                "\nFreshness: app.cases.stats.refresh (after each commit, and the minute sweep)",
                args.target_ms,
            )
        )
        say("  " + await freshness.check_figures(ctx, rng))
        submit_ms, totals_ms, verdict = await freshness.submit_visible(ctx)
        say(
            f"  submit of r63's {ctx.last} report: {submit_ms:.1f} ms; division totals right"
            f" after: {totals_ms:.1f} ms — {verdict}"
        )
        worst = busy.pct(0.95) / 1000
        say(
            "  staleness bound, case figures: each committed timeline event sends"
            f" cases.stats_now → {one.pct(0.95) / 1000:.2f} s (p95, one change),"
            f" {worst:.1f} s for a busy minute; when the worker is down or busy the"
            f" {freshness.SWEEP_SECONDS} s sweep catches up:"
            f" ≤ {freshness.SWEEP_SECONDS + worst:.1f} s"
        )
        say("  report values: written in the submission's transaction — 0 s behind")

        explained = [o for o in ops if o.target or o.name.startswith("totals")]
        if args.explain and target.engine == "pg":
            say("\nPlans (EXPLAIN ANALYZE, app role, supervisor scope)")
            say(await measure.explain(ctx, explained))
        steps: list[tuple[str, Callable[[], float]]] = []
        if args.try_custom_plans and target.engine == "pg":
            steps.append(
                ("plan_cache_mode = force_custom_plan", partial(experiments.custom_plans, target))
            )
        if args.try_rls_initplan and target.engine == "pg":
            steps.append(
                ("RLS id sets as InitPlans", partial(experiments.initplan_policies, target))
            )
        if args.try_subtree_once:
            steps.append(("rollup.grid computes the subtree once", experiments.subtree_once))
        if target.engine == "pg":
            steps += [(ddl, partial(experiments.ddl, target, ddl)) for ddl in args.try_index]
        if args.try_running_totals and target.engine == "pg":
            steps.append(("running-totals prototype", partial(prototype.build, target)))
        for label, step in steps:
            took = step()
            await db.close_pool()  # new connections: role settings apply, no cached plans
            await db.open_pool(*settings_pool)
            if label == "running-totals prototype":
                ops += prototype.operations(ctx)
                say("\n  " + await prototype.same_as_app(ctx))
            again = [await measure.measure(op, args.runs, args.warmup, args.budget) for op in ops]
            one, busy = await freshness.refresh_times(ctx, min(args.runs, 20), rng)
            say(
                measure.table(
                    [*again, one, busy], f"\nAfter: {label} ({took:.1f} s)", args.target_ms
                )
            )
            if args.explain and target.engine == "pg" and label == steps[-1][0]:
                say(await measure.explain(ctx, explained))
        verdict_text = "PASS" if passed else "FAIL"
        say(
            f"\n{verdict_text}: p95 of grid and totals {'<' if passed else '>='}"
            f" {args.target_ms:g} ms ({args.engine}, {len(ctx.centre_ids)} centres ×"
            f" {args.months} months, {size})"
            + ("" if target.engine == "pg" else " — the target is set for PostgreSQL")
        )
        return passed
    finally:
        await db.close_pool()


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    admin = os.environ.get("TEST_PG_ADMIN_URL") or database.DEFAULT_ADMIN
    if args.reuse:
        target = database.attach_postgres(admin, args.reuse)
    elif args.engine == "pg":
        target = database.create_postgres(admin)
    else:
        target = database.create_sqlite()
    database.environment(target)
    say(f"benchmark database: {target.database or target.sqlite_path}")
    try:
        passed = asyncio.run(bench(args, target))
    finally:
        if args.keep or args.reuse:
            say(f"kept: {target.admin_url or target.sqlite_path}")
        else:
            database.drop(target)
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
