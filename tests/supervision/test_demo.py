"""The demo loader: d4's N set explicitly (and audited), the notice sweep run at a moment
inside each centre's service hours (never after now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import db
from app.calendar import services as calendar
from app.cases import lights, timeline
from app.supervision import demo, services
from app.supervision.queries import notices as queries
from app.supervision.tables import SupervisionSetting
from tests.cases.helpers import DIBAO, register, run
from tests.supervision import helpers as h

ROOT = Path(__file__).resolve().parents[2]


def test_last_service_moment_is_inside_a_session_and_not_after_now() -> None:
    cal = run(calendar.load(run(h.system()), run(h.tenant_id("xa"))))
    now = datetime.now(UTC)
    moment = demo.last_service_moment(cal, now)
    assert moment is not None and moment <= now and cal.in_service(moment)


def test_load_sets_n_and_sends_notices(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "send", lambda *a: None)
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("xa-clerk", "xa", DIBAO, now=now - timedelta(days=40), name="演示红"))
    run(lights.move_lights(now))
    try:
        lines = run(demo.load(ROOT / "tenants" / "demo"))
        assert any("N = 2" in line for line in lines)
        assert run(timeline.yellow_days(run(h.system()), run(h.tenant_id("r63")))) == 2
        notices = run(queries.notices_of_case(run(h.system()), case["id"]))
        assert [n["light"] for n in notices] == ["red"]
    finally:

        async def clear() -> None:
            async with db.write(await h.system()):
                await SupervisionSetting.delete().where(SupervisionSetting.id > 0)

        run(clear())
