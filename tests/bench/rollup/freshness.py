"""How far behind the figures can be: the stored case figures are recomputed by
``app.cases.stats.refresh`` from the centre-months a timeline event marked — sent right after
each commit (``cases.stats_now``), with the minute sweep as the net, so they are one refresh
behind a case change (one sweep period plus one refresh when the worker was busy); report values
are written in the submission's own transaction, so totals show a submission as soon as
it commits."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.accounts import queries as accounts
from app.cases import stats
from app.cases.queries import stats as stat_queries
from app.metrics import month_key, month_range, months_between
from app.reports import filing, rollup
from app.reports.queries import periods as period_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import for_user, system_scope, user_scope
from tests.bench.rollup.measure import Context, Result
from tests.reports.helpers import filled

SWEEP_SECONDS = 60
MANAGER, CENTRE = "r63-zhoujianguo", "r63"


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


async def sweep_all() -> tuple[int, float]:
    """The first sweep over every marked centre-month (fills ``case_month_stat``)."""
    started = time.perf_counter()
    done = await stats.refresh()
    return done, time.perf_counter() - started


async def _mark_random_cases(
    ctx: Context, system: Any, rng: random.Random, centres: list[int]
) -> int:
    """Mark the months of one random case of each centre, as a timeline event would."""
    marked = 0
    months = months_between(ctx.first36, ctx.last)
    async with db.write(system):
        for centre in centres:
            start, end = month_range(rng.choice(months))
            found = await _sql(
                "SELECT id FROM service_case WHERE tenant_id = {} AND registered_at >= {}"
                " ORDER BY registered_at LIMIT 1",
                centre,
                start + (end - start) * rng.random(),
            )
            if found:
                await stat_queries.mark_case_months(
                    system, centre, found[0]["id"], datetime.now(UTC)
                )
                marked += 1
    return marked


async def refresh_times(ctx: Context, runs: int, rng: random.Random) -> tuple[Result, Result]:
    """(one case change → its months recomputed, a busy minute: a change in every centre)."""
    system = system_scope(await tenancy.tree(), reason="bench: mark")
    one = Result("refresh after one case change", [], False)
    pairs = 0
    for _ in range(runs):
        await _mark_random_cases(ctx, system, rng, [rng.choice(ctx.centre_ids)])
        started = time.perf_counter()
        pairs += await stats.refresh()
        one.times.append((time.perf_counter() - started) * 1000)
    one.rows = f"{pairs / max(1, runs):.1f} centre-months each"
    busy = Result("refresh of a busy minute", [], False)
    for _ in range(3):
        await _mark_random_cases(ctx, system, rng, ctx.centre_ids)
        started = time.perf_counter()
        done = await stats.refresh()
        busy.times.append((time.perf_counter() - started) * 1000)
        busy.rows = f"{done} centre-months ({len(ctx.centre_ids)} centres)"
    return one, busy


async def check_figures(ctx: Context, rng: random.Random) -> str:
    """The stored figures of a random centre-month equal an independent count."""
    system = system_scope(await tenancy.tree(), reason="bench: check")
    centre, month = rng.choice(ctx.centre_ids), ctx.last
    start, end = month_range(month)
    async with db.read(system):
        direct = await _sql(
            "SELECT COUNT(*) AS n FROM service_case WHERE tenant_id = {} AND registered_at >= {}"
            " AND registered_at < {}",
            centre,
            start,
            end,
        )
    stored = await stat_queries.month_stats(system, [centre], month, month)
    got = int(stored[0]["registered"]) if stored else 0
    want = int(direct[0]["n"])
    return f"stored registered {got} vs counted {want}: {'equal' if got == want else 'DIFFERENT'}"


async def submit_visible(ctx: Context) -> tuple[float, float, str]:
    """A centre submits last month's report; the division's totals show it at once.
    Returns (submit ms, totals ms, verdict)."""
    tree = await tenancy.tree()
    user = await accounts.user_by_username(MANAGER)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    centre = tree.by_slug[CENTRE].id
    scope = for_user(tree, centre, user["id"], mine, False)
    assert scope is not None
    period = await period_queries.period_for(scope, ctx.form["id"], ctx.last)
    assert period is not None
    now = datetime.combine(period["due_on"], clock_time(4, 0), UTC)  # noon in Shanghai
    assert month_key(now) > ctx.last

    async def division_total() -> tuple[int, Any]:
        found = await rollup.totals(
            ctx.scope,
            ctx.definition,
            ctx.form["id"],
            ctx.centre_ids,
            ctx.last,
            ctx.last,
            ["registered"],
        )
        return found[0].reports, found[0].total

    before = await division_total()
    report = await filing.load(scope, period["id"], now=now)
    values = filled(report)
    comments = {r.key: "基准测试说明" for r in report.definition.rules if r.level == "warn"}
    started = time.perf_counter()
    try:
        await filing.submit(
            scope,
            report,
            values,
            corrections={},
            comments=comments,
            lock_version=0,
            actor_name="bench",
            now=now,
        )
    except filing.FilingError as exc:
        problems = exc.check.field_errors if exc.check else {}
        rules = [r.key for r in exc.check.rules if r.ok is False] if exc.check else []
        return 0.0, 0.0, f"submit refused: {exc.message} {problems} {rules}"
    submit_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    after = await division_total()
    totals_ms = (time.perf_counter() - started) * 1000
    added = int(values["registered"])
    ok = after[0] == before[0] + 1 and (after[1] or 0) == (before[1] or 0) + added
    verdict = (
        f"reports {before[0]} → {after[0]}, registered total {before[1]} → {after[1]}"
        f" (+{added}): {'visible at once' if ok else 'NOT VISIBLE'}"
    )
    return submit_ms, totals_ms, verdict
