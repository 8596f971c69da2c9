"""The division's supervision view on a phone (360x740), through the real app in chromium.

A case of xb, accepted 40 days ago, is seeded through the case services and its light
moved by the light sweep (stored red).  The division's supervisor opens /t/d4/supervision,
sees xb's red count, drills down to xb's overdue list and opens the case; the lights list
shows it red with the 督办 button.  Nothing scrolls sideways at 360 px.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.test_adopt import _shots_dir
from tests.conftest import PASSWORD

WIDTH, HEIGHT = 360, 740
SUPERVISOR = "d4-liuhong"


async def _seed() -> dict[str, Any]:
    from app.cases import lights
    from tests.cases.helpers import DIBAO, register

    now = datetime.now(UTC).replace(microsecond=0)
    case = await register("xb-clerk", "xb", DIBAO, now=now - timedelta(days=40), name="浏览器红灯")
    await lights.move_lights(now)
    return case


@pytest.fixture(scope="module")
def overdue_case() -> dict[str, Any]:
    """Seeded before the live server starts (request it before ``live_server``)."""
    return asyncio.run(_seed())


@pytest.fixture
def phone(_chromium: Any) -> Iterator[Any]:
    context = _chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action^='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"horizontal scrolling on {page.url}: scrollWidth {width}"


def _idle(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_red_light_on_the_division_dashboard_drills_down(
    overdue_case: dict[str, Any], live_server: str, phone: Any
) -> None:
    page, base, case = phone, live_server, overdue_case
    assert case["id"]
    _login(page, base, SUPERVISOR)
    page.goto(f"{base}/t/d4/supervision")
    _idle(page)
    card = page.locator(".sup-card[data-centre='xb']")
    assert card.count() == 1
    red = card.locator("a.sup-count.red[data-count='overdue']")
    assert int(red.locator(".n").inner_text()) >= 1
    assert "zero" not in (red.get_attribute("class") or "")
    assert int(page.locator("#total-overdue").inner_text()) >= 1
    _fits(page)
    page.screenshot(path=str(_shots_dir() / "supervision-dashboard.png"), full_page=True)

    # Drill down: xb's overdue cases list, then the case itself.
    red.click()
    page.wait_for_url(lambda url: "/t/xb/cases" in url and "due=overdue" in url)
    _idle(page)
    link = page.locator(f"a[href='/t/xb/cases/{case['id']}']").first
    assert link.count() == 1
    link.click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(f"/t/xb/cases/{case['id']}"))
    _idle(page)
    assert case["number"] in page.locator("main").inner_text()
    assert page.locator(".light-red").count() >= 1

    # The lights list shows it red, with the 督办 form.
    page.goto(f"{base}/t/d4/supervision/lights?colour=red&centre=xb")
    _idle(page)
    row = page.locator(f"tr[data-case='{case['id']}']")
    assert row.count() == 1
    assert row.locator(".light-red").count() == 1
    assert row.locator(f"form[action='/t/xb/cases/{case['id']}/supervise'] button").is_visible()
    _fits(page)
    page.screenshot(path=str(_shots_dir() / "supervision-lights.png"), full_page=True)

    for url in (
        "/t/d4/supervision/league",
        "/t/d4/supervision/settings",
        "/t/d4/supervision/centres/xb",
    ):
        page.goto(f"{base}{url}")
        _idle(page)
        _fits(page)
