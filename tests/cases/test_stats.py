"""The monthly figures (app.metrics) against an independent count of the case rows.

Cases of several kinds and fates are registered (some in past months), the stats sweep
runs, and every stored centre-month must equal a count made here in Python from the
case, timeline and rating rows — the one definition reports and dashboards rely on.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app import db, metrics
from app.cases import actions, intake, stats
from app.cases.queries import stats as stat_queries
from app.cases.tables import Case, CaseEvent, CaseMonthStat, Rating, StatDirty
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import (
    DIBAO,
    MARRIAGE,
    actor_of,
    ensure_seal,
    register,
    run,
    scope_of,
)

CLERK, MANAGER = "r63-guzailinuer", "r63-zhoujianguo"


def _dt(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def _independent() -> dict[tuple[int, int], Counter[str]]:
    out: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    system = system_scope(await tenancy.tree(), reason="tests: stats")
    async with db.read(system):
        cases = await Case.select()
        events = await CaseEvent.select(CaseEvent.tenant, CaseEvent.at, CaseEvent.action)
        ratings = await Rating.select(Rating.tenant, Rating.rated_at, Rating.level)
    for c in cases:
        reg = out[(c["tenant_id"], metrics.month_key(_dt(c["registered_at"])))]
        reg["registered"] += 1
        reg[c["kind"]] += 1
        reg["urgent"] += bool(c["urgent"])
        reg["supplemented"] += c["notices"] > 0
        if c["concluded_at"] is not None:
            con = out[(c["tenant_id"], metrics.month_key(_dt(c["concluded_at"])))]
            con["concluded"] += 1
            con["on_time"] += c["on_time"] is True or c["on_time"] == 1
            con["late"] += c["on_time"] is False or c["on_time"] == 0
            con["unrated"] += not c["rated"]
    names = {
        "accepted": "accepted",
        "notice": "notices",
        "refused": "refused",
        "returned": "returned",
    }
    for e in events:
        if e["action"] in names:
            out[(e["tenant_id"], metrics.month_key(_dt(e["at"])))][names[e["action"]]] += 1
    for r in ratings:
        month = out[(r["tenant_id"], metrics.month_key(_dt(r["rated_at"])))]
        month["rated"] += 1
        month[f"level_{r['level']}"] += 1
    return out


async def _stored() -> dict[tuple[int, int], dict[str, int]]:
    system = system_scope(await tenancy.tree(), reason="tests: stats")
    async with db.read(system):
        rows = await CaseMonthStat.select()
    return {(r["tenant_id"], r["month"]): {k: r[k] for k in metrics.COUNTS} for r in rows}


def _varied_cases() -> None:
    """Cases this test owns: past months, a notice, a refusal, a return, a decision, a rating."""
    now = datetime.now(UTC)
    earlier = now - timedelta(days=70)
    clerk, manager = run(scope_of(CLERK, "r63")), run(scope_of(MANAGER, "r63"))
    c_actor, m_actor = run(actor_of(CLERK)), run(actor_of(MANAGER))
    run(register(CLERK, "r63", MARRIAGE, now=earlier, name="统计即办"))
    run(register(CLERK, "r63", DIBAO, now=earlier, urgent=True, name="统计急办"))
    notified = run(register(CLERK, "r63", DIBAO, missing=(0,), now=earlier, name="统计补正"))
    run(
        intake.refuse(
            clerk, notified["id"], c_actor, "不符合受理条件", now=earlier + timedelta(hours=1)
        )
    )
    returned = run(register(CLERK, "r63", DIBAO, now=earlier, name="统计退回"))
    run(
        actions.return_case(
            clerk, returned["id"], c_actor, "申请人撤回", now=earlier + timedelta(days=1)
        )
    )
    decided = run(register(CLERK, "r63", DIBAO, now=earlier, name="统计办结"))
    run(actions.start_review(clerk, decided["id"], c_actor, now=earlier + timedelta(days=1)))
    run(actions.submit(clerk, decided["id"], c_actor, now=earlier + timedelta(days=2)))
    seal = run(ensure_seal("r63"))
    run(
        actions.decide(
            manager, decided["id"], m_actor, "approved", seal, now=now - timedelta(days=1)
        )
    )
    run(actions.deliver(clerk, decided["id"], c_actor, "window", date.today(), "统计办结", now=now))


def test_stored_figures_equal_an_independent_count() -> None:
    _varied_cases()
    run(stats.refresh())
    stored, counted = run(_stored()), run(_independent())
    assert counted, "the test database has cases"
    for key, counts in counted.items():
        assert key in stored, f"centre-month {key} was never marked"
        expected = {name: counts.get(name, 0) for name in metrics.COUNTS}
        assert stored[key] == expected, key
    # Nothing left to do: a second run changes nothing.
    assert run(stats.refresh()) == 0
    assert run(_stored()) == stored


def test_rebuild_gives_the_same_figures_as_the_incremental_sweep() -> None:
    run(register(CLERK, "r63", DIBAO, name="统计重建"))
    run(stats.refresh())
    before = run(_stored())
    assert run(stats.rebuild()) > 0
    assert run(_stored()) == before


def test_every_event_marks_its_month() -> None:
    case = run(register(CLERK, "r63", DIBAO, name="统计标记"))

    async def marked() -> set[tuple[int, int]]:
        system = system_scope(await tenancy.tree(), reason="tests: stats")
        async with db.read(system):
            rows = await StatDirty.select(StatDirty.tenant, StatDirty.month)
        return {(r["tenant_id"], r["month"]) for r in rows}

    assert (case["tenant_id"], metrics.month_key(case["registered_at"])) in run(marked())
    run(stats.refresh())
    assert run(marked()) == set()


def test_rates_follow_the_design() -> None:
    figures = metrics.total(
        [
            {
                "rated": 8,
                "level_5": 3,
                "level_4": 2,
                "level_3": 1,
                "level_2": 1,
                "level_1": 1,
                "concluded": 10,
                "unrated": 2,
                "on_time": 9,
                "late": 1,
            },
            {"rated": 2, "level_5": 2, "concluded": 5, "unrated": 3, "on_time": 5},
        ]
    )
    assert figures.good == 8  # 非常满意 + 满意 + 基本满意
    assert figures.good_rate == Decimal("80.0")  # 8 of 10 rated
    assert figures.unrated_rate == Decimal("33.3")  # 5 of 15 concluded
    assert figures.on_time_rate == Decimal("93.3")  # 14 of 15
    assert metrics.total([]).good_rate is None


def test_month_bounds_are_local_months() -> None:
    start, end = metrics.month_range(202612)
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert metrics.month_key(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == 202612
    assert metrics.months_between(202611, 202602 + 100) == [202611, 202612, 202701, 202702]


def test_reading_the_figures_is_scoped() -> None:
    run(stats.refresh())

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tree = await tenancy.tree()
        r63, r68 = tree.by_slug["r63"].id, tree.by_slug["r68"].id
        own = await scope_of("r63-zhoujianguo", "r63")
        return (
            await stat_queries.month_stats(own, [r63, r68], 200001, 299912),
            await stat_queries.month_stats(own, [r68], 200001, 299912),
        )

    mine, theirs = run(go())
    assert mine and all(r["tenant_id"] != run(_tenant_id("r68")) for r in mine)
    assert theirs == []


async def _tenant_id_async(slug: str) -> int:
    return (await tenancy.tree()).by_slug[slug].id


def _tenant_id(slug: str) -> Any:
    return _tenant_id_async(slug)
