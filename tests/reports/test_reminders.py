"""Reminders to file: three working days before the due day and on it, once each.

Months used here: 2028-07 (due Saturday 2028-08-05) and 2028-08 (due Tuesday 2028-09-05;
three working days before it is Thursday 2028-08-31, across the weekend).  2028 has no
published calendar, so plain weekdays count; the holiday case uses the 2026 calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.accounts import queries as accounts
from app.calendar.services import load_days
from app.calendar.workdays import SHANGHAI
from app.notify import queries as notify
from app.reports import filing, reminders
from app.reports.queries import periods as period_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope, user_scope
from tests.reports.helpers import filled, manager_scope, notes, open_period, run


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def _sent(period_id: int) -> set[tuple[str, str]]:
    """(centre slug, kind) of every reminder claimed for the period."""
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: reminders")
    rows = await period_queries.reminders(system, period_id)
    return {(tree.nodes[r["tenant_id"]].slug, r["kind"]) for r in rows}


async def _inbox(username: str, period_id: int) -> list[dict[str, Any]]:
    user = await accounts.user_by_username(username)
    assert user is not None
    items = await notify.inbox(user_scope(user["id"]), limit=500)
    return [i for i in items if i["link"].endswith(f"/reports/{period_id}")]


async def _submit(slug: str, period: dict[str, Any]) -> None:
    scope = await manager_scope(slug)
    report = await filing.load(scope, period["id"])
    values = filled(report, registered="0", carried_over="0", concluded="0", on_time="0")
    await filing.submit(
        scope,
        report,
        values,
        corrections=notes(report),
        comments={"registered_change": "测试"},
        lock_version=report.lock_version,
    )


def test_the_before_reminder_goes_out_once_three_working_days_ahead() -> None:
    async def go() -> None:
        period = await open_period(202808)
        assert period["due_on"] == date(2028, 9, 5)
        await _submit("xa", period)
        # Wednesday: four working days before; a naive "three days before" would be Saturday.
        await reminders.send_due(local(2028, 8, 30, 10))
        assert await _sent(period["id"]) == set()
        await reminders.send_due(local(2028, 8, 31, 8, 30))  # before 09:00 local
        assert await _sent(period["id"]) == set()
        await reminders.send_due(local(2028, 8, 31, 9, 30))
        assert await reminders.send_due(local(2028, 8, 31, 9, 30)) == 0  # the sweep ran twice
        sent = await _sent(period["id"])
        assert ("xb", "before") in sent and ("r63", "before") in sent
        assert not any(slug == "xa" for slug, _kind in sent)  # xa has filed
        assert {kind for _slug, kind in sent} == {"before"}
        assert len(await _inbox("xb-manager", period["id"])) == 1
        assert await _inbox("xa-manager", period["id"]) == []
        await reminders.send_due(local(2028, 9, 1, 10))  # the next day: nothing new
        assert await _sent(period["id"]) == sent
        # The due day: the second reminder, once.
        await reminders.send_due(local(2028, 9, 5, 10))
        assert await reminders.send_due(local(2028, 9, 5, 11)) == 0
        after = await _sent(period["id"])
        assert ("xb", "due") in after and ("xa", "due") not in after
        items = await _inbox("xb-manager", period["id"])
        assert len(items) == 2
        assert all(i["link"] == f"/t/xb/reports/{period['id']}" for i in items)

    run(go())


def test_a_missed_before_day_is_not_sent_on_or_after_the_due_day() -> None:
    async def go() -> None:
        period = await open_period(202807)
        assert period["due_on"] == date(2028, 8, 5)
        await reminders.send_due(local(2028, 8, 5, 7))  # the due day, before 09:00
        assert await _sent(period["id"]) == set()
        await reminders.send_due(local(2028, 8, 5, 9))
        sent = await _sent(period["id"])
        assert ("xb", "due") in sent
        assert {kind for _slug, kind in sent} == {"due"}  # no stale "before"
        await reminders.send_due(local(2028, 8, 6, 10))  # after the due day: nothing
        assert await _sent(period["id"]) == sent
        assert len(await _inbox("xb-manager", period["id"])) == 1

    run(go())


def test_working_days_before_a_due_day_follow_the_centres_calendar() -> None:
    async def go() -> None:
        tree = await tenancy.tree()
        system = system_scope(tree, reason="tests: calendar")
        days = await load_days(system, tree.by_slug["r63"].id, tree)
        # 国庆 2026: 10-01..10-07 off, Saturday 10-10 a make-up working day; 中秋 09-25..27 off.
        assert reminders.before_day(days.is_working_day, date(2026, 10, 5)) == date(2026, 9, 28)
        assert reminders.before_day(days.is_working_day, date(2026, 10, 9)) == date(2026, 9, 29)
        assert reminders.before_day(days.is_working_day, date(2026, 10, 12)) == date(2026, 10, 8)
        # Plain weekdays in a year without a published calendar.
        assert reminders.before_day(days.is_working_day, date(2028, 9, 5)) == date(2028, 8, 31)

    run(go())


def test_the_sweeps_and_the_export_actor_are_registered() -> None:
    from app import jobs
    from app.jobs.sweeps import SWEEPS

    jobs.load_tasks()
    from app.reports import tasks

    assert SWEEPS["reports.periods"].every == "day"
    assert SWEEPS["reports.reminders"].every == "hour"
    assert tasks.export.actor_name == "reports.export"
    assert tasks.export.queue_name == "exports"
    assert tasks.export.options["time_limit"] == 30 * 60 * 1000
