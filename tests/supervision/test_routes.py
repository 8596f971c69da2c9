"""The supervision pages: who may open them (403/404), the dashboard's counts and
drill-down links, the centre page (another division's centre is a 404), the lights list
(red first, 督办 form), the league table and the settings form (303, 422, 409, 403)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app import db
from app.accounts.tables import AuditLog
from app.cases import lights
from app.supervision import league as leagues
from app.supervision import services
from app.supervision.figures import CentreFigures
from app.supervision.tables import SupervisionSetting
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode
from app.tenancy.services import DEFAULT_HOURS
from tests.cases.helpers import DIBAO, register, run
from tests.supervision import helpers as h

SUP = "d4-liuhong"


async def _other_division() -> None:
    """A second division with one centre (idempotent): what d4 must never reach."""
    tree = await tenancy.tree()
    if "s6div" in tree.by_slug:
        return
    scope = await h.system()
    async with db.write(scope):
        div = await tenancy.create_tenant(
            scope,
            slug="s6div",
            name="监察测试师",
            kind="division",
            status="pilot",
            hours=DEFAULT_HOURS,
        )
        await tenancy.create_tenant(
            scope,
            slug="s6c",
            name="监察测试中心",
            kind="regiment",
            parent=div,
            status="pilot",
            hours=DEFAULT_HOURS,
        )


def _count(html: str, slug: str, what: str) -> int:
    card = html.split(f'data-centre="{slug}"', 1)[1]
    found = re.search(rf'data-count="{what}">\s*<span class="n">(\d+)</span>', card)
    assert found is not None
    return int(found.group(1))


def test_who_may_open(client: Any, as_user: Any) -> None:
    as_user("xa-manager")
    assert client.get("/t/xa/supervision").status_code == 403
    assert client.get("/t/d4/supervision").status_code == 404
    as_user(SUP)
    for url in (
        "/t/d4/supervision",
        "/t/d4/supervision/lights",
        "/t/d4/supervision/league",
        "/t/d4/supervision/settings",
        "/t/d4/supervision/centres/xa",
        "/t/r63/supervision",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/t/d4/supervision?month=2026-13").status_code == 404
    assert client.get("/t/d4/supervision/lights?centre=nowhere").status_code == 404


def test_another_divisions_centre_is_a_404(client: Any, as_user: Any) -> None:
    run(_other_division())
    as_user(SUP)
    assert client.get("/t/d4/supervision/centres/s6c").status_code == 404
    assert client.get("/t/d4/supervision/centres/no-such").status_code == 404
    assert client.get("/t/d4/supervision/lights?centre=s6c").status_code == 404
    as_user("zr-supervisor")  # a regiment's supervisor: only its own subtree
    assert client.get("/t/zr/supervision/centres/zc").status_code == 200
    assert client.get("/t/zr/supervision/centres/xa").status_code == 404
    assert client.get("/t/zr/supervision/centres/d4").status_code == 404


def test_dashboard_counts_and_drill_down(client: Any, as_user: Any) -> None:
    as_user(SUP)
    before = client.get("/t/d4/supervision").text
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("xb-clerk", "xb", DIBAO, now=now - timedelta(days=40), name="看板红"))
    run(lights.move_lights(now))
    page = client.get("/t/d4/supervision")
    assert page.status_code == 200
    assert _count(page.text, "xb", "overdue") == _count(before, "xb", "overdue") + 1
    assert 'href="/t/xb/cases?due=overdue"' in page.text
    assert 'href="/t/xb/cases?due=soon"' in page.text
    assert 'href="/static/css/supervision.css"' in page.text
    listed = client.get("/t/xb/cases?due=overdue")
    assert listed.status_code == 200 and f"/t/xb/cases/{case['id']}" in listed.text
    # The htmx request gets the main block only (same URL).
    part = client.get("/t/d4/supervision", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and 'id="sup-main"' in part.text

    centre = client.get("/t/d4/supervision/centres/xb")
    assert centre.status_code == 200
    assert f"/t/xb/cases/{case['id']}" in centre.text
    assert centre.text.count("data-month=") == 6


def test_lights_list_red_first_with_supervise(client: Any, as_user: Any) -> None:
    from tests.cases.helpers import start_for_light

    now = datetime.now(UTC).replace(microsecond=0)
    red = run(register("xb-clerk", "xb", DIBAO, now=now - timedelta(days=40), name="列表红"))
    yellow = run(
        register(
            "xb-clerk",
            "xb",
            DIBAO,
            now=run(start_for_light(now, "yellow", slug="xb")),
            name="列表黄",
        )
    )
    run(lights.move_lights(now))
    as_user(SUP)
    page = client.get("/t/d4/supervision/lights?centre=xb").text
    rows = re.findall(r'<tr class="sup-row-(\w+)" data-case="(\d+)"', page)
    colours = [c for c, _i in rows]
    assert colours == sorted(colours)  # red before yellow
    ids = [int(i) for _c, i in rows]
    assert red["id"] in ids and yellow["id"] in ids
    assert f'action="/t/xb/cases/{red["id"]}/supervise"' in page
    assert f'action="/t/xb/cases/{yellow["id"]}/supervise"' not in page
    assert 'name="csrf_token"' in page
    only_yellow = client.get("/t/d4/supervision/lights?colour=yellow&centre=xb").text
    assert 'class="sup-row-red"' not in only_yellow and f'data-case="{yellow["id"]}"' in only_yellow


def _figs(tenant_id: int, **values: Any) -> CentreFigures:
    return CentreFigures(tenant_id=tenant_id, month=209001, **values)


def test_league_ordering_ties_by_slug() -> None:
    nodes = [
        TenantNode(i, slug, slug, "regiment", "pilot", 1)
        for i, slug in ((1, "b"), (2, "a"), (3, "c"), (4, "d"))
    ]
    figures = {
        1: _figs(1, on_time_rate=Decimal(90)),
        2: _figs(2, on_time_rate=Decimal(90)),  # the same score as "b": "a" first
        3: _figs(3, on_time_rate=Decimal(95), overdue=1),  # 95 − 2 = 93: first
        4: _figs(4, on_time_rate=Decimal(100), overdue_rectifications=20),  # 80: last
    }
    rows = leagues.rank(nodes, figures)
    assert [(r.rank, r.centre.slug, r.score) for r in rows] == [
        (1, "c", Decimal("93.0")),
        (2, "a", Decimal("90.0")),
        (3, "b", Decimal("90.0")),
        (4, "d", Decimal("80.0")),
    ]


def test_league_page_and_function(client: Any, as_user: Any) -> None:
    async def go() -> list[leagues.LeagueRow]:
        from tests.cases.helpers import scope_of

        return await leagues.league(await scope_of(SUP, "d4"), 209001)

    rows = run(go())
    slugs = [r.centre.slug for r in rows]
    assert "xa" in slugs and "d4" not in slugs and "s6c" not in slugs
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    keys = [(-r.score, r.centre.slug) for r in rows]
    assert keys == sorted(keys)
    as_user(SUP)
    page = client.get("/t/d4/supervision/league?month=2090-01").text
    shown = re.findall(r'<tr data-centre="([\w-]+)" data-rank="(\d+)"', page)
    assert [s for s, _r in shown] == slugs
    assert 'href="/t/d4/circulars/new?link=league:2090-01"' in page


@pytest.fixture
def no_setting() -> Any:
    async def clear() -> None:
        async with db.write(await h.system()):
            await SupervisionSetting.delete().where(SupervisionSetting.id > 0)

    run(clear())
    yield
    run(clear())


def test_settings_form(client: Any, as_user: Any, no_setting: None, monkeypatch: Any) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(services, "send", lambda job, *args: sent.append(args))
    token = as_user(SUP)
    page = client.get("/t/d4/supervision/settings")
    assert page.status_code == 200 and 'name="yellow_days"' in page.text
    bad = client.post(
        "/t/d4/supervision/settings",
        data={"csrf_token": token, "yellow_days": "11", "note": "太多", "lock_version": "0"},
    )
    assert bad.status_code == 422 and 'value="11"' in bad.text and "太多" in bad.text
    assert sent == []
    ok = client.post(
        "/t/d4/supervision/settings",
        data={"csrf_token": token, "yellow_days": "3", "note": "师里统一", "lock_version": "0"},
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/t/d4/supervision/settings?saved=1"
    assert len(sent) == 1
    stale = client.post(
        "/t/d4/supervision/settings",
        data={"csrf_token": token, "yellow_days": "4", "note": "", "lock_version": "0"},
    )
    assert stale.status_code == 409
    shown = client.get("/t/d4/supervision/settings?saved=1").text
    assert "师里统一" in shown

    async def audited() -> list[dict[str, Any]]:
        async with db.read(await h.system()):
            return await AuditLog.select(AuditLog.action).where(
                AuditLog.action == "supervision.yellow_days"
            )

    assert len(run(audited())) >= 1
    # A supervisor working at a regiment of the division reads N but does not change it.
    regiment = client.get("/t/r63/supervision/settings")
    assert regiment.status_code == 200 and 'name="yellow_days"' not in regiment.text
    assert "N = 3" in regiment.text  # inherited from d4
    refused = client.post(
        "/t/r63/supervision/settings",
        data={"csrf_token": token, "yellow_days": "1", "note": "", "lock_version": "0"},
    )
    assert refused.status_code == 403


def test_the_month_is_named(client: Any, as_user: Any) -> None:
    as_user(SUP)
    for url in ("/t/d4/supervision?month=2090-01", "/t/d4/supervision/league?month=2090-01"):
        text = client.get(url).text
        assert "2090-01" in text and "<function" not in text
    centre = client.get("/t/d4/supervision/centres/xa?month=2090-01").text
    months = re.findall(r'data-month="(\d+)"', centre)
    assert months == ["208908", "208909", "208910", "208911", "208912", "209001"]
    assert "<function" not in centre
