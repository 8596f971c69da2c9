"""Calendar pages: admins keep national days, a division its regional days, staff read both.

Writes use far-future years (2089–2091) so the 2025–2028 calendar other tests rely on stays
as shipped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.calendar import services
from app.web.i18n import gettext
from tests.conftest import login


@pytest.fixture
def changes() -> Iterator[list[tuple[frozenset[int], date]]]:
    """Every calendar_changed call made during the test."""
    calls: list[tuple[frozenset[int], date]] = []

    async def listener(tenant_ids: frozenset[int], from_date: date) -> None:
        calls.append((tenant_ids, from_date))

    services.on_calendar_change(listener)
    yield calls
    services.remove_listener(listener)


def signed_in(app: Any, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client, login(client, username)


@pytest.fixture
def admin(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, "admin")
    yield client, token
    client.__exit__(None, None, None)


@pytest.fixture
def supervisor(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, "d4-liuhong")
    yield client, token
    client.__exit__(None, None, None)


# --- platform admin: national days --------------------------------------------------------


def test_admin_lists_the_shipped_year(admin) -> None:  # type: ignore[no-untyped-def]
    client, _token = admin
    page = client.get("/admin/calendar?year=2026")
    assert page.status_code == 200
    assert "2026-02-14" in page.text and "春节" in page.text
    assert "国务院办公厅关于2026年部分节假日安排的通知" in page.text
    assert page.text.count('action="/admin/calendar/remove"') == 13  # one per run


def test_admin_adds_days_then_publishes_the_year(admin, changes) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    year = 2091
    page = client.get(f"/admin/calendar?year={year}")
    assert "2091-01-01" not in page.text
    saved = client.post(
        f"/admin/calendar?year={year}",
        data={"csrf_token": token, "day": "2091-01-01", "kind": "off", "name": "元旦"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/calendar?year=2091&done=saved"
    page = client.get(saved.headers["location"])
    assert "2091-01-01" in page.text and "元旦" in page.text
    assert len(changes) == 1 and date(2091, 1, 1) == changes[0][1] and len(changes[0][0]) >= 6

    # Fixing the same date changes it in place; the next day with the same name joins it.
    for day in ("2091-01-01", "2091-01-02"):
        fixed = client.post(
            "/admin/calendar",
            data={"csrf_token": token, "day": day, "kind": "off", "name": "元旦节"},
        )
        assert fixed.status_code == 303
    page = client.get(f"/admin/calendar?year={year}")
    assert page.text.count('value="2091-01-01"') == 1  # one run: 01-01 … 01-02
    assert "元旦节" in page.text and "01-02" in page.text

    published = client.post(
        "/admin/calendar/publish",
        data={"csrf_token": token, "year": str(year), "notice": "测试通知（2090-11-01）"},
    )
    assert published.status_code == 303
    page = client.get(published.headers["location"])
    assert "测试通知（2090-11-01）" in page.text
    assert changes[-1][1] == date(2091, 1, 1)

    # Every centre now counts it (the admin may open any centre).
    assert "元旦节" in client.get(f"/t/xa/calendar?year={year}").text
    audit = client.get("/admin/audit").text
    assert "添加全国节假日安排" in audit and "发布年度节假日安排" in audit

    removed = client.post(
        "/admin/calendar/remove",
        data={"csrf_token": token, "day": "2091-01-01", "until": "2091-01-02"},
    )
    assert removed.status_code == 303
    page = client.get(f"/admin/calendar?year={year}").text
    assert "2091-01-01" not in page and "2091-01-02" not in page
    assert client.get("/admin/audit").text.count(gettext("Removed a national day")) >= 2
    backwards = {"csrf_token": token, "day": "2091-01-02", "until": "2091-01-01"}
    assert client.post("/admin/calendar/remove", data=backwards).status_code == 404


@pytest.mark.parametrize(
    ("body", "message", "kept"),
    [
        ({"day": "2090-02-30", "kind": "off", "name": "春节"}, "", 'value="2090-02-30"'),
        (
            {"day": "2090-01-02", "kind": "work", "name": "调休"},
            "A make-up working day falls on a Saturday or a Sunday.",
            "调休",
        ),
        ({"day": "2090-01-07", "kind": "off", "name": ""}, "", 'value="2090-01-07"'),
        (
            {"day": "1999-01-01", "kind": "off", "name": "元旦"},
            "Choose a date between 2000 and 2099.",
            "元旦",
        ),
        ({"day": "", "kind": "off", "name": "中秋节"}, "Enter the date as YYYY-MM-DD.", "中秋节"),
    ],
)
def test_admin_bad_day_is_kept_with_a_message(admin, changes, body, message, kept) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = client.post("/admin/calendar", data={"csrf_token": token, **body})
    assert response.status_code == 422
    assert 'class="error"' in response.text
    assert html.escape(gettext(message)) in response.text if message else True
    assert kept in response.text
    assert changes == []


def test_publishing_a_year_without_days_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = client.post(
        "/admin/calendar/publish",
        data={"csrf_token": token, "year": "2090", "notice": "某通知"},
    )
    assert response.status_code == 422
    expected = html.escape(gettext("Enter the year's days off and make-up working days first."))
    assert expected in response.text and 'value="某通知"' in response.text
    junk = client.post(
        "/admin/calendar/publish", data={"csrf_token": token, "year": "20x0", "notice": "某通知"}
    )
    assert junk.status_code == 422


def test_only_platform_admins_edit_national_days(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    assert client.get("/admin/calendar").status_code == 403
    body = {"csrf_token": token, "day": "2090-01-01", "kind": "off", "name": "元旦"}
    assert client.post("/admin/calendar", data=body).status_code == 403
    assert client.post("/admin/calendar/publish", data=body).status_code == 403
    assert client.post("/admin/calendar/remove", data=body).status_code == 403


# --- a centre's calendar; a division's regional days --------------------------------------


def test_staff_see_their_centres_calendar(app) -> None:  # type: ignore[no-untyped-def]
    client, _token = signed_in(app, "xa-clerk")
    try:
        page = client.get("/t/xa/calendar?year=2026")
        assert page.status_code == 200
        assert "春节" in page.text and "02-15" in page.text and "02-23" in page.text
        assert "国庆节调休上班" in page.text
        assert 'action="/t/xa/calendar' not in page.text  # nothing to change here
        provisional = client.get("/t/xa/calendar?year=2028")
        assert provisional.status_code == 200 and "alert error" in provisional.text
        assert client.get("/t/xa/calendar?year=junk").status_code == 200
        assert client.get("/t/xa/calendar?year=99999").status_code == 200
        fragment = client.get("/t/xa/calendar?year=2026", headers={"HX-Request": "true"})
        assert "<html" not in fragment.text and "春节" in fragment.text
    finally:
        client.__exit__(None, None, None)


def test_supervisor_adds_and_removes_a_regional_day(supervisor, changes, app) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    page = client.get("/t/d4/calendar?year=2089")
    assert page.status_code == 200 and 'action="/t/d4/calendar?year=2089"' in page.text
    saved = client.post(
        "/t/d4/calendar?year=2089",
        data={"csrf_token": token, "day": "2089-05-16", "kind": "off", "name": "古尔邦节（测试）"},
    )
    assert saved.status_code == 303, saved.text[:400]
    assert saved.headers["location"] == "/t/d4/calendar?year=2089&done=saved"
    assert "古尔邦节（测试）" in client.get(saved.headers["location"]).text
    tenant_ids, from_date = changes[-1]
    assert from_date == date(2089, 5, 16)
    ids = re.findall(r'href="/t/([a-z0-9-]+)/"', client.get("/t/d4/").text)
    assert len(tenant_ids) >= len(set(ids))  # the division's subtree

    # It shows in a centre under the division, read-only, marked as regional.
    clerk, _ = signed_in(app, "xa-clerk")
    try:
        below = clerk.get("/t/xa/calendar?year=2089").text
        assert "古尔邦节（测试）" in below
    finally:
        clerk.__exit__(None, None, None)

    assert "添加自治区节假日安排" in client.get("/t/d4/audit").text
    removed = client.post("/t/d4/calendar/remove", data={"csrf_token": token, "day": "2089-05-16"})
    assert removed.status_code == 303
    assert "古尔邦节（测试）" not in client.get("/t/d4/calendar?year=2089").text
    assert "删除自治区节假日安排" in client.get("/t/d4/audit").text


def test_regional_bad_input_is_kept_with_a_message(supervisor, changes) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    response = client.post(
        "/t/d4/calendar",
        data={"csrf_token": token, "day": "2089-13-01", "kind": "off", "name": "肉孜节"},
    )
    assert response.status_code == 422
    assert 'value="2089-13-01"' in response.text and "肉孜节" in response.text
    assert changes == []


@pytest.mark.parametrize("username", ["d4-ayiguli", "d4-chenzhiqiang"])
def test_clerks_and_managers_cannot_set_regional_days(app, username: str) -> None:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, username)
    try:
        assert client.get("/t/d4/calendar?year=2089").status_code == 200
        body = {"csrf_token": token, "day": "2089-05-17", "kind": "off", "name": "古尔邦节"}
        assert client.post("/t/d4/calendar", data=body).status_code == 403
        assert client.post("/t/d4/calendar/remove", data=body).status_code == 403
        assert "2089-05-17" not in client.get("/t/d4/calendar?year=2089").text
    finally:
        client.__exit__(None, None, None)


def test_regional_days_only_on_a_division(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    page = client.get("/t/r63/calendar?year=2089")
    assert page.status_code == 200 and 'action="/t/r63/calendar' not in page.text
    assert "第四师行政服务中心" in page.text  # where regional days are set
    body = {"csrf_token": token, "day": "2089-05-17", "kind": "off", "name": "古尔邦节"}
    assert client.post("/t/r63/calendar", data=body).status_code == 404
    assert client.post("/t/r63/calendar/remove", data=body).status_code == 404
