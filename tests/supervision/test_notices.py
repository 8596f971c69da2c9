"""Light notices: each new yellow or red light is told once to the case owner and the
centre's managers, only inside the centre's service hours; a second run (or a second
scheduler) sends nothing again."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from app import db
from app.calendar import services as calendar
from app.calendar.workdays import SHANGHAI
from app.cases import lights
from app.jobs import TASK_MODULES
from app.jobs.sweeps import SWEEPS
from app.notify.tables import InboxItem
from app.supervision import tasks
from app.supervision.notices.sweep import send_light_notices
from app.supervision.queries import notices as queries
from tests.cases.helpers import DIBAO, register, run
from tests.supervision import helpers as h


async def _inbox(link: str) -> list[dict[str, Any]]:
    async with db.read(await h.system()):
        return await InboxItem.select(InboxItem.user, InboxItem.kind, InboxItem.title).where(
            InboxItem.link == link
        )


async def _moments() -> tuple[datetime, datetime]:
    """(in service, outside) moments of xa's calendar from today on."""
    cal = await calendar.load(await h.system(), await h.tenant_id("xa"))
    inside = cal.next_session_start(datetime.now(UTC)) + timedelta(minutes=10)
    day = inside.astimezone(SHANGHAI).date()
    outside = datetime.combine(day, time(3, 0), SHANGHAI).astimezone(UTC)
    assert cal.in_service(inside) and not cal.in_service(outside)
    return inside, outside


def test_the_sweep_is_registered() -> None:
    assert "app.supervision.tasks" in TASK_MODULES
    assert SWEEPS["supervision.light_notices"].every == "minute"
    assert SWEEPS["supervision.light_notices"] is tasks.light_notices


def test_a_red_light_is_told_once_and_only_in_service_hours() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("xa-clerk", "xa", DIBAO, now=now - timedelta(days=40), name="通知红"))
    run(lights.move_lights(now))
    link = f"/t/xa/cases/{case['id']}"
    inside, outside = run(_moments())

    # Outside service hours nothing is sent: the notice waits.
    run(send_light_notices(outside))
    assert run(queries.notices_of_case(run(h.system()), case["id"])) == []
    assert run(_inbox(link)) == []

    assert run(send_light_notices(inside)) >= 1
    notices = run(queries.notices_of_case(run(h.system()), case["id"]))
    assert [n["light"] for n in notices] == ["red"]
    told = run(_inbox(link))
    owner, manager = run(h.user_id("xa-clerk")), run(h.user_id("xa-manager"))
    assert sorted(int(r["user_id"]) for r in told) == sorted({owner, manager})
    assert {r["kind"] for r in told} == {"light"}

    # A second run (or a second scheduler) sends nothing again.
    run(send_light_notices(inside))
    run(send_light_notices(inside + timedelta(minutes=1)))
    assert len(run(queries.notices_of_case(run(h.system()), case["id"]))) == 1
    assert len(run(_inbox(link))) == len(told)


def test_the_claim_takes_once() -> None:
    """Two runs racing for the same case: only the first insert takes (the unique key)."""
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("xa-clerk", "xa", DIBAO, now=now - timedelta(days=40), name="并发"))
    run(lights.move_lights(now))

    async def claim() -> Any:
        scope = await h.system()
        async with db.write(scope):
            return await queries.claim(scope, case["tenant_id"], case["id"], "red", 2, now)

    assert run(claim()) is not None
    assert run(claim()) is None

    # and a light the case does not show is never claimed
    async def yellow() -> Any:
        scope = await h.system()
        async with db.write(scope):
            return await queries.claim(scope, case["tenant_id"], case["id"], "yellow", 2, now)

    assert run(yellow()) is None


def test_yellow_then_red_are_two_notices() -> None:
    from tests.cases.helpers import start_for_light

    now = datetime.now(UTC).replace(microsecond=0)
    case = run(
        register("xa-clerk", "xa", DIBAO, now=run(start_for_light(now, "yellow")), name="先黄后红")
    )
    run(lights.move_lights(now))
    inside, _outside = run(_moments())
    run(send_light_notices(inside))
    stored = run(queries.notices_of_case(run(h.system()), case["id"]))
    assert [n["light"] for n in stored] == ["yellow"]
    from app.cases.queries import core

    fresh = run(core.case(run(h.system()), case["id"]))
    assert fresh is not None
    later = fresh["promised_due_at"] + timedelta(minutes=1)
    run(lights.move_lights(later))
    run(send_light_notices(inside))
    stored = run(queries.notices_of_case(run(h.system()), case["id"]))
    assert [n["light"] for n in stored] == ["yellow", "red"]
    titles = [r["title"] for r in run(_inbox(f"/t/xa/cases/{case['id']}"))]
    assert len(titles) == 4  # owner and manager, once per light
