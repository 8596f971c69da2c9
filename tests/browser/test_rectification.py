"""A rectification answered with evidence on a phone (360x740), through the real app.

The division's inspector (d4-liuhong) has opened a finding item at xa (as an inspection's
submission does).  xa's manager opens it from the ledger, writes what was done, attaches a
photo and sends the answer: the item shows as answered with the photo listed (and the file
downloads).  The inspector then accepts it from the division's address: the item is closed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.web.i18n import gettext as _
from tests.browser.test_adopt import _shots_dir
from tests.conftest import PASSWORD

WIDTH, HEIGHT = 360, 740
INSPECTOR = "d4-liuhong"
MANAGER = "xa-manager"
ANSWER = "已在大厅入口张贴办事指南并补齐台账"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


async def _prepare() -> dict[str, Any]:
    from app import db
    from app.cases import ledger
    from app.tenancy import queries as tenancy
    from tests.cases.helpers import scope_of

    scope = await scope_of(INSPECTOR, "d4")
    tree = await tenancy.tree()
    tenant_id = tree.by_slug["xa"].id
    owner = (await ledger.managers(scope, tenant_id))[0]["user_id"]
    due = await ledger.due_in(scope, tenant_id, datetime.now(UTC), ledger.DUE_HALVES)
    title = f"办事指南未公示 {secrets.token_hex(2)}"
    async with db.write(scope):
        item_id = await ledger.open_item(
            scope, tenant_id, "finding", None, None, title, "大厅未公示办事指南", owner, due
        )
        # A second one, overdue, stays open for the overview's red figure.
        late = datetime.now(UTC) - timedelta(days=1)
        await ledger.open_item(
            scope, tenant_id, "finding", None, None, f"{title} 超期", "", owner, late
        )
    return {"id": item_id, "title": title}


@pytest.fixture(scope="module")
def finding() -> dict[str, Any]:
    """Set up before the live server starts (request it before ``live_server``)."""
    return asyncio.run(_prepare())


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
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action^='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _idle(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"horizontal scrolling on {page.url}: scrollWidth {width}"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(_shots_dir() / f"rectification-{name}.png"), full_page=True)


def test_manager_answers_a_finding_with_evidence_and_the_inspector_accepts(
    finding: dict[str, Any], live_server: str, phone: Any, tmp_path: Path
) -> None:
    base, page, item_id = live_server, phone, finding["id"]
    _login(page, base, MANAGER)
    page.goto(f"{base}/t/xa/rectifications?source=finding")
    _fits(page)
    page.get_by_role("link", name=finding["title"], exact=True).click()
    page.wait_for_url(f"**/t/xa/rectifications/{item_id}")
    _idle(page)
    _fits(page)
    form = page.locator(f"form[action='/t/xa/rectifications/{item_id}/evidence']")
    form.locator("textarea[name=note]").fill(ANSWER)
    photo = tmp_path / "整改照片.png"
    photo.write_bytes(PNG)
    form.locator("input[type=file][name=files]").set_input_files(str(photo))
    _shot(page, "answer-form")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/t/xa/rectifications/{item_id}?done=answer")
    _idle(page)
    main = page.locator("main")
    main.get_by_text(_("Answered, awaiting verification")).first.wait_for()
    assert ANSWER in main.inner_text()
    link = main.locator(f"a[href^='/t/xa/rectifications/{item_id}/evidence/']")
    assert link.count() == 1
    assert link.inner_text().strip() == "整改照片.png"
    assert page.locator(f"form[action='/t/xa/rectifications/{item_id}/evidence']").count() == 0
    _fits(page)
    _shot(page, "answered")
    # The evidence downloads through its authorised route.
    response = page.request.get(base + str(link.get_attribute("href")))
    assert response.status == 200 and response.body() == PNG

    # The inspector accepts it from the division's address.
    _login(page, base, INSPECTOR)
    page.goto(f"{base}/t/d4/rectifications/{item_id}")
    _idle(page)
    verify = page.locator(f"form[action='/t/d4/rectifications/{item_id}/verify']")
    verify.locator("input[name=decision][value=accept]").check()
    verify.locator("textarea[name=note]").fill("复查合格")
    verify.locator("button[type=submit]").click()
    page.wait_for_url(f"**/t/d4/rectifications/{item_id}?done=verify")
    _idle(page)
    page.locator("main").get_by_text(_("Accepted by the inspector")).first.wait_for()
    assert page.locator(f"form[action='/t/d4/rectifications/{item_id}/verify']").count() == 0
    _fits(page)
    _shot(page, "accepted")


def test_the_division_overview_fits_a_phone(
    finding: dict[str, Any], live_server: str, phone: Any
) -> None:
    base, page = live_server, phone
    _login(page, base, INSPECTOR)
    page.goto(f"{base}/t/d4/rectifications")
    page.locator("a[href='/t/d4/rectifications/overview']").click()
    page.wait_for_url("**/t/d4/rectifications/overview")
    _idle(page)
    cards = page.locator(".centre-card")
    assert cards.count() >= 1
    xa = page.locator(".centre-card", has=page.locator("a[href='/t/d4/rectifications?centre=xa']"))
    assert xa.count() == 1
    assert xa.locator(".figure.overdue").count() == 1
    box = xa.bounding_box()
    assert box is not None and box["width"] <= WIDTH
    _fits(page)
    _shot(page, "overview")
