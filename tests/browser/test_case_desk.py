"""A case's whole life on a phone (390x844), through the real app in chromium:

register with a material missing → one-time notice → supplement → accept → receipt →
review → decide → deliver → public lookup → rate 不满意 → the manager sees the item in the
rectification ledger.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.web.i18n import gettext as _
from tests.browser.test_adopt import _no_horizontal_scroll, _shots_dir
from tests.cases import helpers
from tests.conftest import PASSWORD

CLERK = "r63-guzailinuer"
MANAGER = "r63-zhoujianguo"
APPLICANT = "浏览器测试申请人"


def _sync(coro: Any) -> Any:
    """Run a coroutine on its own loop in a thread (playwright's sync API owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def dibao_item() -> dict[str, Any]:
    """Adopted by r63, with a seal to decide with (before the live server starts)."""

    async def go() -> dict[str, Any]:
        item = await helpers.ensure_adopted("r63", helpers.DIBAO)
        await helpers.ensure_seal("r63")
        return item

    return asyncio.run(go())


def _login(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action^='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _action(page: Any, name: str, fill: dict[str, str] | None = None) -> None:
    """Open the action's <details>, fill its fields and submit it (HTMX swaps the body)."""
    form = page.locator(f"form[action$='/{name}']")
    details = page.locator(f"details:has(form[action$='/{name}'])")
    if details.count() and not details.first.evaluate("d => d.open"):
        details.first.locator("summary").click()
    for selector, value in (fill or {}).items():
        target = form.locator(selector)
        if target.first.get_attribute("type") in ("radio", "checkbox"):
            target.first.check()
        elif target.first.evaluate("e => e.tagName") == "SELECT":
            target.first.select_option(value)
        else:
            target.first.fill(value)
    with page.expect_response(lambda r: r.request.method == "POST"):
        form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_case_life_on_a_phone(
    dibao_item: dict[str, Any], live_server: str, browser_page: Any
) -> None:
    page, base, item = browser_page, live_server, dibao_item
    shots = _shots_dir()
    materials = item["content"]["materials"]

    # 1. The clerk registers with the second material missing.
    _login(page, base, CLERK)
    page.goto(f"{base}/t/r63/cases/new?item={helpers.DIBAO}")
    for position, material in enumerate(materials):
        conditional = material.get("requirement") == "conditional"
        status = "missing" if position == 1 else ("waived" if conditional else "received")
        page.check(f"input[name=m{position}_status][value={status}]")
    page.check("input[name=applicant_kind][value=person]")
    page.fill("input[name=applicant_name]", APPLICANT)
    page.fill("input[name=id_number]", helpers.RESIDENT_ID.lower())
    page.fill("input[name=phone]", "13912345678")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "case-register.png"), full_page=True)
    page.locator("#register-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/t/r63/cases/\d+"))
    case_url = page.url.split("?")[0]
    case_id = int(case_url.rstrip("/").rsplit("/", 1)[1])
    assert page.locator(".notice-issued").is_visible()
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "case-notice.png"), full_page=True)

    # 2. The one-time notice prints the missing material, and only it.
    notice_href = page.locator(".notice-issued a").get_attribute("href")
    page.goto(f"{base}{notice_href}")
    text = page.locator("body").inner_text()
    assert materials[1]["name"] in text
    assert materials[0]["name"] not in text

    # 3. The applicant comes back with it: supplement, then accept.
    page.goto(case_url)
    _action(page, "supplement", {"input[name=m1_status][value=received]": "on"})
    _action(page, "accept")
    assert page.locator("p.print-links a").is_visible()
    page.screenshot(path=str(shots / "case-accepted.png"), full_page=True)

    # 4. The receipt: number, lookup code and the QR code; the applicant masked.
    page.goto(f"{case_url}/receipt?paper=80mm")
    receipt = page.locator("body").inner_text()
    assert APPLICANT not in receipt and helpers.RESIDENT_ID not in receipt
    assert page.locator("svg").count() >= 1
    number, code = _number_and_code(case_id)
    assert number in receipt and code in receipt
    page.screenshot(path=str(shots / "case-receipt-80mm.png"), full_page=True)

    # 5. Review and submit (clerk), decide (manager), deliver (clerk).
    page.goto(case_url)
    _action(page, "review")
    _action(page, "submit")
    _login(page, base, MANAGER)
    page.goto(case_url)
    # Other test modules may have given r63 more seals (then none is preselected).
    seal = page.locator("select[name=decide-seal] option:not([value=''])").first
    _action(
        page,
        "decide",
        {
            "input[name=decide-decision][value=approved]": "on",
            "select[name=decide-seal]": seal.get_attribute("value") or "",
        },
    )
    _login(page, base, CLERK)
    page.goto(case_url)
    _action(page, "deliver", {"input[name=deliver-recipient]": APPLICANT})
    assert page.locator(".state").first.inner_text().strip() == _("Delivered")
    _no_horizontal_scroll(page)

    # 6. The applicant looks the case up on the public page (no login) and rates it low.
    page.context.clear_cookies()
    page.goto(f"{base}/t/r63/track")
    page.fill("input[name=number]", number)
    page.fill("input[name=code]", code)
    page.locator("form.lookup button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert _("Delivered") in page.locator("main").inner_text()
    assert APPLICANT not in page.content()
    page.check("input[name=level][value='2']")
    page.check("input[name=reasons][value=slow]")
    page.fill("textarea[name=comment]", "等待时间太长")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "case-track-rate.png"), full_page=True)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("section.rate button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert posted.value.status < 400, posted.value.text()[:3000]
    assert _("This case has been rated. Thank you.") in page.locator("main").inner_text() or (
        page.locator("section.rate").count() == 0
    )

    # 7. The manager finds it in the rectification ledger.
    _login(page, base, MANAGER)
    page.goto(f"{base}/t/r63/rectifications")
    assert number in page.locator("main").inner_text() or _ledger_has(page, case_id)
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "case-ledger.png"), full_page=True)


def _ledger_has(page: Any, case_id: int) -> bool:
    """The ledger row of this case's rating (its title may not carry the number)."""

    async def go() -> bool:
        from app.cases.tables import Rectification

        rows = await Rectification.select(Rectification.id).where(
            (Rectification.case == case_id) & (Rectification.source == "rating")
        )
        return any(f"/rectifications/{r['id']}" in page.content() for r in rows)

    return bool(_sync(go()))


def _number_and_code(case_id: int) -> tuple[str, str]:
    async def go() -> tuple[str, str]:
        from app.cases.tables import Case

        row = await Case.select(Case.number, Case.lookup_code).where(Case.id == case_id).first()
        assert row is not None
        return row["number"], row["lookup_code"]

    return tuple(_sync(go()))  # type: ignore[return-value]
