"""Deadlines in working days (DESIGN.md "Deadlines"; Administrative Licensing Law Arts. 42–45).

Dates use the seeded 2026 calendar (tenants/calendar-2026.toml): National Day 10-01…10-07
off, Saturday 10-10 a make-up working day (调休上班).  Centre ``xa`` keeps d4's hours:
summer (from 05-01) 09:30–13:30 / 16:00–20:00, winter (from 10-01) 10:00–14:00 / 15:30–19:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import db
from app.calendar.workdays import SHANGHAI, TenantCalendar
from app.cases import actions, deadlines, intake, timeline
from app.cases.queries import core
from app.cases.tables import Case
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.errors import Forbidden
from tests.cases.helpers import (
    DIBAO,
    DISABILITY,
    MARRIAGE,
    actor_of,
    ensure_seal,
    register,
    run,
    scope_of,
)

CLERK, MANAGER = "xa-clerk", "xa-manager"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def _calendar(slug: str) -> TenantCalendar:
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests: calendar")
    cal, _margin = await timeline.clock(scope, tree.by_slug[slug].id)
    return cal


@pytest.fixture(scope="module")
def cal() -> TenantCalendar:
    return run(_calendar("xa"))


def accepted(at: datetime, *more: tuple[str, datetime, dict[str, Any]]) -> list[dict[str, Any]]:
    events = [{"id": 1, "action": "accepted", "at": at, "data": {}}]
    for i, (action, moment, data) in enumerate(more, start=2):
        events.append({"id": i, "action": action, "at": moment, "data": data})
    return events


# --- across holidays -----------------------------------------------------------------------


def test_national_day_is_skipped_and_the_make_up_saturday_counts(cal: TenantCalendar) -> None:
    eve = local(2026, 9, 30, 10, 0)  # Wednesday before the holiday
    # The day of acceptance does not count; 10-01…10-07 are off; 10-08 is the first day.
    assert cal.due_at(eve, 1).at == local(2026, 10, 8, 14, 0)
    assert cal.due_at(eve, 2).at == local(2026, 10, 8, 19, 30)
    assert cal.due_at(eve, 4).at == local(2026, 10, 9, 19, 30)
    # Saturday 10-10 is a make-up working day: the third working day.
    assert cal.due_at(eve, 6).at == local(2026, 10, 10, 19, 30)
    assert cal.due_at(eve, 8).at == local(2026, 10, 12, 19, 30)
    result = deadlines.compute(6, 8, accepted(eve), cal, eve)
    assert result.promised_due_at == local(2026, 10, 10, 19, 30)
    assert result.legal_due_at == local(2026, 10, 12, 19, 30)
    assert result.due_provisional is False


def test_registered_case_before_national_day_stores_holiday_aware_dates() -> None:
    eve = local(2026, 9, 30, 10, 0)
    case = run(register(CLERK, "xa", DIBAO, now=eve, name="国庆前"))  # 40 / 60 halves
    assert case["state"] == "accepted"
    # 20 working days: 10-08, 10-09, 10-10 (make-up), 10-12…10-16, 10-19…10-23,
    # 10-26…10-30, 11-02, 11-03.
    assert case["promised_due_at"] == local(2026, 11, 3, 19, 30)
    # 30 working days: … 11-04…11-06, 11-09…11-13, 11-16, 11-17.
    assert case["legal_due_at"] == local(2026, 11, 17, 19, 30)
    assert case["due_provisional"] is False


def test_the_day_of_acceptance_does_not_count(cal: TenantCalendar) -> None:
    for moment in (local(2026, 6, 1, 8, 0), local(2026, 6, 1, 9, 35), local(2026, 6, 1, 19, 0)):
        assert cal.due_at(moment, 1).at == local(2026, 6, 2, 13, 30)
        assert cal.due_at(moment, 2).at == local(2026, 6, 2, 20, 0)
    # Accepted on Friday: Saturday and Sunday are off.
    assert cal.due_at(local(2026, 6, 5, 10, 0), 1).at == local(2026, 6, 8, 13, 30)


def test_a_year_without_calendar_data_is_provisional(cal: TenantCalendar) -> None:
    late = local(2026, 12, 28, 10, 0)
    result = deadlines.compute(4, 20, accepted(late), cal, late)
    # The promised date stays in 2026 (published); the legal date runs into 2027 (not).
    assert result.promised_due_at is not None and result.promised_due_at.year == 2026
    assert result.due_provisional is False
    assert result.legal_provisional is True
    result = deadlines.compute(10, 20, accepted(late), cal, late)
    assert result.due_provisional is True and result.legal_provisional is True


# --- pauses --------------------------------------------------------------------------------


def test_paused_time_does_not_count(cal: TenantCalendar) -> None:
    start = local(2026, 6, 1, 10, 0)  # Monday
    paused, resumed = local(2026, 6, 3, 10, 0), local(2026, 6, 8, 10, 0)
    events = accepted(start, ("paused", paused, {}), ("resumed", resumed, {}))
    result = deadlines.compute(10, 20, events, cal, resumed)
    # Sessions ending while paused: 06-03 (2), 06-04 (2), 06-05 (2) = 6 half-days.
    assert result.paused_halves == 6
    assert result.promised_due_at == cal.due_at(start, 16).at
    assert result.legal_due_at == cal.due_at(start, 26).at
    assert result.paused is False
    plain = deadlines.compute(10, 20, accepted(start), cal, resumed)
    assert plain.promised_due_at == cal.due_at(start, 10).at < result.promised_due_at


def test_an_open_pause_freezes_the_light(cal: TenantCalendar) -> None:
    start = local(2026, 6, 1, 10, 0)
    due = cal.due_at(start, 10).at
    yellow_at = cal.due_at(start, 10 - 2 * deadlines.DEFAULT_YELLOW_DAYS).at
    # Paused while green: long after the due date the light is still green, nothing moves.
    green = deadlines.compute(
        10,
        20,
        accepted(start, ("paused", start + timedelta(hours=1), {})),
        cal,
        due + timedelta(days=30),
    )
    assert (green.paused, green.light, green.light_changes_at) == (True, "green", None)
    assert green.legal_exceeded is False
    # Paused while yellow: stays yellow.
    pause_at = yellow_at + timedelta(minutes=5)
    yellow = deadlines.compute(
        10, 20, accepted(start, ("paused", pause_at, {})), cal, due + timedelta(days=30)
    )
    assert (yellow.paused, yellow.light, yellow.light_changes_at) == (True, "yellow", None)


def test_pause_and_resume_through_the_workflow() -> None:
    case = run(register(CLERK, "xa", DIBAO, name="听证甲"))
    clerk, actor = run(scope_of(CLERK, "xa")), run(actor_of(CLERK))
    before = case["promised_due_at"]
    paused = run(actions.pause(clerk, case["id"], actor, "hearing", "申请人申请听证"))
    assert paused["paused"] is True and paused["light_changes_at"] is None
    with pytest.raises(actions.WorkflowError):
        run(actions.pause(clerk, case["id"], actor, "hearing", "again"))
    resumed = run(
        actions.resume(clerk, case["id"], actor, now=datetime.now(UTC) + timedelta(days=7))
    )
    assert resumed["paused"] is False
    assert resumed["promised_due_at"] > before
    assert resumed["light_changes_at"] is not None


# --- extensions ----------------------------------------------------------------------------


def test_extension_once_within_ten_working_days() -> None:
    case = run(register(CLERK, "xa", DIBAO, name="延期甲"))
    manager, m_actor = run(scope_of(MANAGER, "xa")), run(actor_of(MANAGER))
    clerk, c_actor = run(scope_of(CLERK, "xa")), run(actor_of(CLERK))
    with pytest.raises(Forbidden):  # a clerk cannot approve an extension
        run(actions.extend(clerk, case["id"], c_actor, 5, "需要实地核查"))
    with pytest.raises(actions.WorkflowError) as too_long:
        run(actions.extend(manager, case["id"], m_actor, 11, "需要实地核查"))
    assert too_long.value.field == "days"
    cal = run(_calendar("xa"))
    extended = run(actions.extend(manager, case["id"], m_actor, 10, "需要实地核查"))
    assert extended["extended_halves"] == 20
    accepted_at = case["accepted_at"]
    assert extended["promised_due_at"] == cal.due_at(accepted_at, 40 + 20).at
    assert extended["legal_due_at"] == cal.due_at(accepted_at, 60 + 20).at
    with pytest.raises(actions.WorkflowError) as again:
        run(actions.extend(manager, case["id"], m_actor, 1, "再次延期"))
    assert again.value.field == "days"
    assert run(core.case(manager, case["id"]))["extended_halves"] == 20


def test_joint_items_may_extend_fifteen_working_days() -> None:
    case = run(register(CLERK, "xa", DISABILITY, name="联办甲"))
    assert case["kind"] == "joint"
    manager, m_actor = run(scope_of(MANAGER, "xa")), run(actor_of(MANAGER))
    with pytest.raises(actions.WorkflowError):
        run(actions.extend(manager, case["id"], m_actor, 16, "多部门会商"))
    extended = run(actions.extend(manager, case["id"], m_actor, 15, "多部门会商"))
    assert extended["extended_halves"] == 30
    assert deadlines.extension_cap("joint") == 30 and deadlines.extension_cap("promised") == 20


# --- legal limit, conclusion, immediate items ------------------------------------------------


def test_legal_limit_exceeded_is_its_own_flag(cal: TenantCalendar) -> None:
    start = local(2026, 6, 1, 10, 0)
    promised, legal = cal.due_at(start, 10).at, cal.due_at(start, 20).at
    between = deadlines.compute(10, 20, accepted(start), cal, promised + timedelta(hours=1))
    assert (between.light, between.legal_exceeded, between.light_changes_at) == (
        "red",
        False,
        legal,
    )
    past = deadlines.compute(10, 20, accepted(start), cal, legal)
    assert (past.light, past.legal_exceeded, past.light_changes_at) == ("red", True, None)
    # Concluded after the legal limit: late, and the flag stays.
    late = accepted(start, ("concluded", legal + timedelta(days=1), {}))
    closed = deadlines.compute(10, 20, late, cal, legal + timedelta(days=40))
    assert (closed.on_time, closed.legal_exceeded, closed.light) == (False, True, "")
    early = accepted(start, ("concluded", promised, {}))
    assert deadlines.compute(10, 20, early, cal, legal).on_time is True


def test_immediate_items_conclude_on_time() -> None:
    case = run(register(CLERK, "xa", MARRIAGE, name="即办甲"))
    assert case["state"] == "concluded" and case["on_time"] is True
    assert case["promised_due_at"] == case["accepted_at"] == case["concluded_at"]
    assert (case["light"], case["light_changes_at"], case["legal_exceeded"]) == ("", None, False)


# --- the light over time -------------------------------------------------------------------


def test_light_turns_yellow_then_red_at_the_stored_moments(cal: TenantCalendar) -> None:
    start = local(2026, 6, 1, 10, 0)
    events = accepted(start)
    promised, legal = cal.due_at(start, 40).at, cal.due_at(start, 60).at
    yellow_at = cal.due_at(start, 40 - 2 * deadlines.DEFAULT_YELLOW_DAYS).at

    first = deadlines.compute(40, 60, events, cal, start)
    assert (first.light, first.light_changes_at) == ("green", yellow_at)
    second = deadlines.compute(40, 60, events, cal, yellow_at - timedelta(seconds=1))
    assert second.light == "green"
    at_yellow = deadlines.compute(40, 60, events, cal, first.light_changes_at)
    assert (at_yellow.light, at_yellow.light_changes_at) == ("yellow", promised)
    before_due = deadlines.compute(40, 60, events, cal, promised - timedelta(seconds=1))
    assert before_due.light == "yellow"
    at_red = deadlines.compute(40, 60, events, cal, at_yellow.light_changes_at)
    assert (at_red.light, at_red.legal_exceeded, at_red.light_changes_at) == ("red", False, legal)
    at_legal = deadlines.compute(40, 60, events, cal, at_red.light_changes_at)
    assert (at_legal.light, at_legal.legal_exceeded, at_legal.light_changes_at) == (
        "red",
        True,
        None,
    )
    # Yellow begins two working days (four sessions) before the due date.
    assert cal.sessions_left(yellow_at, promised) == 2 * deadlines.DEFAULT_YELLOW_DAYS


def test_no_clock_before_acceptance() -> None:
    case = run(register(CLERK, "xa", DIBAO, missing=(0,), name="补正甲"))
    assert case["state"] == "supplement"
    assert case["promised_due_at"] is None and case["light"] == ""
    assert case["light_changes_at"] is None


# --- the issue's test: every case recomputed from its timeline -------------------------------


async def _varied_cases() -> None:
    """Cases in every shape the deadline rules know, so the walk below meets them all."""
    clerk, c = await scope_of(CLERK, "xa"), await actor_of(CLERK)
    manager, m = await scope_of(MANAGER, "xa"), await actor_of(MANAGER)
    past = datetime.now(UTC) - timedelta(days=50)
    # Paused and resumed, extended, then decided and delivered.
    a = await register(CLERK, "xa", DIBAO, now=past, name="全程甲")
    await actions.pause(clerk, a["id"], c, "testing", "送检", now=past + timedelta(days=1))
    await actions.resume(clerk, a["id"], c, now=past + timedelta(days=6))
    await actions.extend(manager, a["id"], m, 3, "核查", now=past + timedelta(days=7))
    await actions.start_review(clerk, a["id"], c, now=past + timedelta(days=8))
    await actions.submit(clerk, a["id"], c, now=past + timedelta(days=9))
    seal = await ensure_seal("xa")
    await actions.decide(manager, a["id"], m, "approved", seal, now=past + timedelta(days=10))
    await actions.deliver(
        clerk,
        a["id"],
        c,
        "window",
        (past + timedelta(days=11)).astimezone(SHANGHAI).date(),
        "全程甲",
        now=past + timedelta(days=11),
    )
    # Still paused.
    b = await register(CLERK, "xa", DIBAO, now=past, name="暂停乙")
    await actions.pause(clerk, b["id"], c, "expert", "专家评审", now=past + timedelta(days=2))
    # Two notices, then accepted late; returned; overdue and untouched; urgent.
    d = await register(CLERK, "xa", DIBAO, missing=(1,), now=past, name="两次告知丁")
    await intake.issue_notice(clerk, d["id"], c, reason="新情况：户籍迁移", now=past)
    e = await register(CLERK, "xa", DIBAO, now=past, name="退回戊")
    await actions.return_case(clerk, e["id"], c, "申请人撤回", now=past + timedelta(days=3))
    await register(CLERK, "xa", DIBAO, now=past, name="逾期己")
    await register(CLERK, "xa", DIBAO, name="急办庚", urgent=True)
    await register(CLERK, "xa", MARRIAGE, now=past, name="即办辛")


async def _last_case_id() -> int:
    scope = system_scope(await tenancy.tree(), reason="tests: the last case id")
    async with db.read(scope):
        rows = await Case.select(Case.id).order_by(Case.id, ascending=False).limit(1)
    return int(rows[0]["id"]) if rows else 0


def test_every_case_recomputed_from_its_timeline_matches_the_stored_dates() -> None:
    # Only the cases made here: other modules of this worker change calendars and the yellow
    # margin without running the recompute job, which would leave their cases honestly stale.
    before = run(_last_case_id())
    run(_varied_cases())

    async def walk() -> list[str]:
        now = datetime.now(UTC)
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="tests: recompute every case")
        async with db.read(scope):  # row-level security: the system scope reads all
            rows = await Case.select(Case.id).where(
                Case.tenant.is_in(list(tree.nodes)) & (Case.id > before)
            )
        clocks: dict[int, tuple[TenantCalendar, int]] = {}
        problems = []
        for row in rows:
            case = await core.case(scope, row["id"])
            assert case is not None
            if case["tenant_id"] not in clocks:
                clocks[case["tenant_id"]] = await timeline.clock(scope, case["tenant_id"])
            cal, margin = clocks[case["tenant_id"]]
            events = await core.events(scope, case["id"])
            # Stored at the last event, or later by a light sweep at some moment m (other
            # modules of this worker sweep, some at fixed dates).  Nothing changes between m
            # and the stored light_changes_at, so the moment just before it gives every
            # stored column too; the moments below cover the stretches without one.
            moments = [case["updated_at"], now]
            if case["light_changes_at"] is not None:
                moments.append(case["light_changes_at"] - timedelta(seconds=1))
            # A sweep at a later fixed date (red, or past the legal limit): just past each due.
            second = timedelta(seconds=1)
            moments += [case[c] + second for c in ("promised_due_at", "legal_due_at") if case[c]]
            mismatches = []
            for moment in moments:
                again = deadlines.compute(
                    case["promised_halves"], case["legal_halves"], events, cal, moment, margin
                )
                mismatches = [
                    f"{case['number']} {column}: {case[column]!r} != {value!r}"
                    for column, value in again.columns().items()
                    if case[column] != value
                ]
                if not mismatches:
                    break
            problems.extend(mismatches)
        assert len(rows) >= 7  # the varied set
        return problems

    assert run(walk()) == []
