"""The light sweep (lights move as time passes) and the recompute after a calendar change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app import db
from app.calendar import queries as calendar_queries
from app.calendar import services as calendar_services
from app.calendar.workdays import SHANGHAI
from app.cases import lights, tasks, timeline
from app.cases.queries import core
from app.jobs import TASK_MODULES
from app.jobs.sweeps import SWEEPS
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import DIBAO, register, run, start_for_light

CLERK = "xa-clerk"


async def _system() -> Any:
    return system_scope(await tenancy.tree(), reason="tests: lights")


async def _case(case_id: int) -> dict[str, Any]:
    case = await core.case(await _system(), case_id)
    assert case is not None
    return case


def test_the_sweep_and_the_job_are_registered() -> None:
    assert "app.cases.tasks" in TASK_MODULES
    assert SWEEPS["cases.lights"].every == "minute"
    assert SWEEPS["cases.lights"] is tasks.move_lights
    assert tasks.recompute.actor_name == "cases.recompute"
    assert tasks.calendar_changed in calendar_services._listeners


def test_the_sweep_moves_lights_whose_moment_has_come_and_is_idempotent() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    red = run(register(CLERK, "xa", DIBAO, now=run(start_for_light(now, "red")), name="灯红"))
    yellow = run(register(CLERK, "xa", DIBAO, now=run(start_for_light(now, "yellow")), name="灯黄"))
    green = run(register(CLERK, "xa", DIBAO, now=now - timedelta(minutes=5), name="灯绿"))
    # Stored at registration: green, with the moment of change already past for two.
    assert red["light"] == yellow["light"] == green["light"] == "green"
    assert red["light_changes_at"] <= now and yellow["light_changes_at"] <= now
    assert green["light_changes_at"] > now

    moved = run(lights.move_lights(now))
    assert moved >= 2
    red, yellow, green_after = (run(_case(c["id"])) for c in (red, yellow, green))
    assert (red["light"], red["legal_exceeded"]) == ("red", False)
    assert red["light_changes_at"] == red["legal_due_at"]
    assert (yellow["light"], yellow["light_changes_at"]) == ("yellow", yellow["promised_due_at"])
    assert green_after == green  # not due: untouched (updated_at included)
    for case in (red, yellow):
        assert case["updated_at"] == now

    # A second run at the same moment finds nothing and changes nothing.
    assert run(lights.move_lights(now)) == 0
    assert run(_case(red["id"])) == red and run(_case(yellow["id"])) == yellow

    # Time passes: the next moment of the red case (its legal limit) moves the flag.
    later = red["legal_due_at"] + timedelta(minutes=1)
    run(lights.move_lights(later))
    red = run(_case(red["id"]))
    assert (red["light"], red["legal_exceeded"], red["light_changes_at"]) == ("red", True, None)


def test_the_sweep_leaves_paused_and_closed_cases_alone() -> None:
    from app.cases import actions
    from tests.cases.helpers import actor_of, scope_of

    start = datetime.now(UTC) - timedelta(days=40)
    case = run(register(CLERK, "xa", DIBAO, now=start, name="灯停"))
    clerk, actor = run(scope_of(CLERK, "xa")), run(actor_of(CLERK))
    run(
        actions.pause(
            clerk, case["id"], actor, "expert", "专家评审", now=start + timedelta(hours=2)
        )
    )
    before = run(_case(case["id"]))
    assert before["paused"] and before["light_changes_at"] is None
    run(lights.move_lights(datetime.now(UTC)))
    assert run(_case(case["id"])) == before


def test_the_sweep_body_runs_through_its_registration() -> None:
    run(register(CLERK, "xa", DIBAO, now=datetime.now(UTC) - timedelta(days=35), name="灯扫"))
    run(SWEEPS["cases.lights"].run("2026-11-27T10:00"))
    assert run(lights.move_lights(datetime.now(UTC) - timedelta(seconds=1))) == 0


# --- a calendar change recomputes stored dates ---------------------------------------------

FAR = date(2087, 3, 4)  # a Wednesday in a year no manifest publishes (plain weekdays)


def test_calendar_change_enqueues_and_the_job_recomputes(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks, "send", lambda job, *args: sent.append((job, *args)))
    start = datetime(2087, 3, 2, 10, 0, tzinfo=SHANGHAI)  # Monday
    case = run(register(CLERK, "xa", DIBAO, now=start, name="改历"))
    assert case["due_provisional"] is True
    before = case["promised_due_at"]

    async def set_day(add: bool) -> frozenset[int]:
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="tests: regional day")
        d4 = tree.by_slug["d4"].id
        async with db.write(scope):
            if add:
                await calendar_queries.upsert_regional_day(scope, d4, FAR, "off", "测试假日")
            else:
                await calendar_queries.delete_regional_days(scope, d4, FAR, FAR)
        subtree = frozenset(tree.subtree(d4))
        await calendar_services.calendar_changed(subtree, FAR)
        return subtree

    try:
        subtree = run(set_day(True))
        job, ids, iso = sent[-1]
        assert job is tasks.recompute
        assert sorted(ids) == sorted(subtree) and iso == FAR.isoformat()  # ids only

        assert run(tasks.recompute_deadlines(ids, iso)) >= 1
        moved = run(_case(case["id"]))
        # One weekday fewer before the due date: it moves by one working day.
        assert moved["promised_due_at"] > before
        tree = run(tenancy.tree())
        cal, _margin = run(timeline.clock(run(_system()), tree.by_slug["xa"].id))
        assert moved["promised_due_at"] == cal.due_at(start, 40).at
        assert moved["legal_due_at"] == cal.due_at(start, 60).at
        events = run(core.events(run(_system()), case["id"]))
        recomputed = [e for e in events if e["action"] == "recomputed"]
        assert len(recomputed) == 1
        assert recomputed[0]["data"]["promised_to"] == moved["promised_due_at"].isoformat()

        # The job is idempotent: a second run changes nothing.
        assert run(lights.recompute_tenants(list(ids), FAR)) == 0
        assert run(_case(case["id"])) == moved
    finally:
        run(set_day(False))
        tree = run(tenancy.tree())
        run(lights.recompute_tenants(sorted(tree.subtree(tree.by_slug["d4"].id)), FAR))
    assert run(_case(case["id"]))["promised_due_at"] == before


def test_recompute_covers_open_cases_and_cases_closed_since(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A case closed before the change's date is history: its verdict does not move."""
    from app.cases.queries import lights as light_queries

    async def ids() -> list[int]:
        tree = await tenancy.tree()
        since = lights.start_of(date(2087, 1, 1))
        return await light_queries.recompute_ids(
            await _system(), tree.by_slug["xa"].id, since, 0, 100_000
        )

    old = run(register(CLERK, "xa", "071806000000", name="旧即办"))  # concluded now (2026)
    open_case = run(register(CLERK, "xa", DIBAO, name="在办"))
    found = run(ids())
    assert open_case["id"] in found and old["id"] not in found
