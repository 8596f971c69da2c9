"""A centre manager adopts an item on a phone (390x844): list, adopt, set its window."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD

MANAGER = "r63-zhoujianguo"
ITEM_NAME = "高龄津贴申领（浏览器测试）"


def _shots_dir() -> Path:
    var_dir = os.environ.get("VAR_DIR")
    shots = Path(var_dir).parent / "shots" if var_dir else Path(tempfile.gettempdir()) / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scrollbar on {page.url}: scrollWidth {width} > 390"


async def _prepare() -> dict[str, Any]:
    """An item of d4 that r63 has not adopted (the seed's, or one made by the supervisor)."""
    from app.accounts import queries as accounts
    from app.catalogue import adoption, versions
    from app.catalogue.content import validate
    from app.catalogue.queries import adoption as adoptions
    from app.catalogue.queries import templates
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import for_user, system_scope, user_scope

    tree = await tenancy.tree()
    user = await accounts.user_by_username("d4-liuhong")
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug["d4"].id, user["id"], mine, False)
    assert scope is not None
    system = system_scope(tree, reason="test")
    r63 = tree.by_slug["r63"].id
    adopted = await adoptions.adoptions(system, r63)
    rows = [
        t
        for t in await templates.templates(scope)
        if t["retired_at"] is None and t["id"] not in adopted and t["department_code"] == "mzj"
    ]
    if rows:
        code = rows[0]["code"]
    else:
        code = "BROWSER-ADOPT-01"
        content = {
            "name": ITEM_NAME,
            "department": "mzj",
            "power_type": "行政给付",
            "kind": "promised",
            "legal_halves": 20,
            "promised_halves": 10,
            "materials": [{"name": "居民身份证", "form": "original_and_copy"}],
        }
        await versions.create(
            None, scope, code, validate(content), adoption.today() - timedelta(days=1)
        )
    windows = {w["code"]: w for w in await tenancy.windows(system, r63)}
    return {"code": code, "window": windows["W05"]}


@pytest.fixture(scope="session")
def r63_item() -> dict[str, Any]:
    """Set up before the live server starts (request it before ``live_server``)."""
    return asyncio.run(_prepare())


def test_manager_adopts_an_item_on_a_phone(
    r63_item: dict[str, Any], live_server: str, browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    code, window = r63_item["code"], r63_item["window"]

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", MANAGER)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action^='/login'] button[type=submit]").click()
    page.wait_for_url(f"{live_server}/t/r63/")

    page.goto(f"{live_server}/t/r63/items")
    row = page.locator(f"#item-{code}")
    expect(row).to_be_visible()
    _no_horizontal_scroll(page)

    # Adopt with the row's toggle (htmx swaps the row in place).
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlparse(r.url).path.endswith(f"{code}/adopt")
    ) as info:
        row.locator("form[action$='/adopt'] button").click()
    assert info.value.status == 200
    assert info.value.request.headers.get("hx-request") == "true"
    expect(row.locator("form[action$='/deactivate']")).to_be_visible()
    expect(row.locator(".tag")).to_contain_text("✓")
    page.screenshot(path=str(_shots_dir() / "r63-items-390x844.png"))

    # Its settings: choose the window (htmx refreshes that window's A/B posts), save.
    row.locator(f"a[href='/t/r63/items/{code}']").last.click()
    page.wait_for_url(f"{live_server}/t/r63/items/{code}")
    # The boosted page is swapped in; wait until htmx has processed its select.
    page.wait_for_function(
        "() => { const s = document.querySelector('#window');"
        " return !!(s && s['htmx-internal-data'] && s['htmx-internal-data'].initHash); }"
    )
    with page.expect_response(lambda r: r.request.method == "GET" and "window=" in r.url):
        page.select_option("#window", str(window["id"]))
    expect(page.locator("#a-post select")).not_to_have_value("")
    _no_horizontal_scroll(page)
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".alert.ok")).to_be_visible()
    page.screenshot(path=str(_shots_dir() / "r63-item-390x844.png"), full_page=True)

    # Back on the list the item is marked adopted, at that window.
    page.goto(f"{live_server}/t/r63/items")
    row = page.locator(f"#item-{code}")
    expect(row.locator(".tag")).to_contain_text("✓")
    expect(row).to_contain_text(window["name"])
    _no_horizontal_scroll(page)
    assert not errors, errors
