"""The shell on a phone (390x844): log in, the centre page, the menu, language, log out."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.conftest import PASSWORD

CENTRE = "六十三团便民服务中心"
MANAGER = "r63-zhoujianguo"


def _shots_dir() -> Path:
    var_dir = os.environ.get("VAR_DIR")
    shots = Path(var_dir).parent / "shots" if var_dir else Path(tempfile.gettempdir()) / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scrollbar on {page.url}: scrollWidth {width} > 390"


def _post(page: Any, button: Any, path: str) -> None:
    """Click a form's submit button and require its POST to ``path`` to answer 303."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlparse(r.url).path == path
    ) as info:
        button.click()
    response = info.value
    assert response.status == 303, (
        f"POST {path} answered {response.status}, not 303 (X-CSRFToken header sent: "
        f"{response.request.headers.get('x-csrftoken')!r}, htmx request: "
        f"{response.request.headers.get('hx-request')!r})"
    )


def test_login_menu_language_logout(browser_page: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    page = browser_page
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(f"pageerror: {exc}"))

    # Log in.
    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    _no_horizontal_scroll(page)
    page.fill("input[name=username]", MANAGER)
    page.fill("input[name=password]", PASSWORD)
    _post(page, page.locator("form[action^='/login'] button[type=submit]"), "/login")

    # The manager lands on the centre's page.
    page.wait_for_url(f"{live_server}/t/r63/")
    expect(page.locator("body")).to_contain_text(CENTRE)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.wait_for_load_state("networkidle")
    _no_horizontal_scroll(page)
    shot = _shots_dir() / "r63-home-390x844.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    # The menu opens.
    menu = page.locator("details.menu")
    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    expect(menu.locator("form[action='/logout'] button")).to_be_visible()
    _no_horizontal_scroll(page)

    # English.
    _post(page, page.locator("form.lang button[name=locale][value=en]"), "/language")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("details.menu summary .label")).to_have_text("Menu")
    expect(page.locator("form.lang button[name=locale][value=zh_Hans]")).to_be_visible()
    expect(page.locator("body")).to_contain_text(CENTRE)
    assert page.url == f"{live_server}/t/r63/"
    _no_horizontal_scroll(page)

    # And back to Chinese.
    _post(page, page.locator("form.lang button[name=locale][value=zh_Hans]"), "/language")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("form.lang button[name=locale][value=en]")).to_have_text("English")
    expect(page.locator("body")).to_contain_text(CENTRE)

    # Log out from the menu.
    menu = page.locator("details.menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    logout = menu.locator("form[action='/logout'] button[type=submit]")
    expect(logout).to_have_text(re.compile(r"退出登录|Log out"))
    _post(page, logout, "/logout")
    page.wait_for_url(f"{live_server}/login")
    expect(page.locator("input[name=username]")).to_be_visible()
    expect(page.locator("details.menu")).to_have_count(0)

    csp = [m for m in console_errors if "Content Security Policy" in m or "Refused" in m]
    assert not csp, "Content-Security-Policy violations:\n" + "\n".join(csp)
