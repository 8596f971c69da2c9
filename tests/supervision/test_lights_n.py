"""The yellow margin N in working days across a holiday, and a paused case: its light does
not move and no light notice goes out for it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app import db
from app.calendar import queries as calendar_queries
from app.calendar.workdays import SHANGHAI
from app.cases import actions, lights, timeline
from app.supervision import services
from app.supervision.notices.sweep import send_light_notices
from app.supervision.queries import notices as notice_queries
from app.supervision.tables import SupervisionSetting
from app.tenancy import queries as tenancy
from tests.cases.helpers import DIBAO, actor_of, register, run, scope_of
from tests.supervision import helpers as h

HOLIDAY = date(2087, 3, 4)  # a Wednesday in a year no manifest publishes (plain weekdays)
START = datetime(2087, 3, 2, 10, 0, tzinfo=SHANGHAI)  # Monday


async def _holiday(add: bool) -> None:
    scope = await h.system()
    d4 = await h.tenant_id("d4")
    async with db.write(scope):
        if add:
            await calendar_queries.upsert_regional_day(scope, d4, HOLIDAY, "off", "监察测试假日")
        else:
            await calendar_queries.delete_regional_days(scope, d4, HOLIDAY, HOLIDAY)
        await SupervisionSetting.delete().where(SupervisionSetting.id > 0)


async def _set_n(n: int) -> None:
    scope = await scope_of("d4-liuhong", "d4")
    tree = await tenancy.tree()
    await services.save_yellow_days(None, scope, tree, tree.by_slug["d4"].id, n, "", None)


def test_n_counts_working_days_across_a_holiday(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "send", lambda *a: None)
    run(_holiday(True))
    try:
        run(_set_n(3))
        case = run(register("xa-clerk", "xa", DIBAO, now=START, name="假日N"))
        # 40 halves promised, N = 3 days: yellow after 34 halves = 17 working days after the
        # Monday of acceptance; without the holiday that ends on Wednesday 25 March, the
        # holiday on the 4th moves it to Thursday the 26th (afternoon end).
        assert case["light"] == "green"
        yellow_at = case["light_changes_at"]
        assert yellow_at.astimezone(SHANGHAI).date() == date(2087, 3, 26)
        cal, margin = run(timeline.clock(run(h.system()), case["tenant_id"]))
        assert margin == 3
        assert yellow_at == cal.due_at(START, 34).at
        assert case["promised_due_at"].astimezone(SHANGHAI).date() == date(2087, 3, 31)
    finally:
        run(_holiday(False))


def test_a_paused_case_keeps_its_light_and_is_not_notified() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=40)
    case = run(register("xa-clerk", "xa", DIBAO, now=start, name="暂停红"))
    clerk, actor = run(scope_of("xa-clerk", "xa")), run(actor_of("xa-clerk"))
    run(
        actions.pause(
            clerk, case["id"], actor, "expert", "专家评审", now=start + timedelta(hours=2)
        )
    )
    run(lights.move_lights(now))
    from app.cases.queries import core

    paused = run(core.case(run(h.system()), case["id"]))
    assert paused is not None and paused["paused"] and paused["light"] == "green"
    assert paused["light_changes_at"] is None

    red = run(register("xa-clerk", "xa", DIBAO, now=start, name="红后暂停"))
    run(lights.move_lights(now))
    run(actions.pause(clerk, red["id"], actor, "expert", "专家评审", now=now))
    red = run(core.case(run(h.system()), red["id"]))
    assert red is not None and red["paused"] and red["light"] == "red"

    from app.calendar import services as calendar

    cal = run(calendar.load(run(h.system()), red["tenant_id"]))
    inside = cal.next_session_start(now) + timedelta(minutes=5)
    run(send_light_notices(inside))
    assert run(notice_queries.notices_of_case(run(h.system()), red["id"])) == []
    assert run(notice_queries.notices_of_case(run(h.system()), paused["id"])) == []
