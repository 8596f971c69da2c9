"""Monthly reports on a phone (360x800), through the real app in chromium.

A centre (r68, a regiment directly under d4: one approval suffices) fills its 2028-10
report: the figures typed are saved automatically and survive a reload; it fills the rest
(空项填0), corrects a pre-filled figure with a note and submits; the division (d4-liuhong)
returns it with a reason; the centre sees the reason, changes a figure and submits again;
the division approves, and the grid's cell turns green.  A second test opens every report
page at 360 px (screenshots; nothing may scroll sideways).

Month 2028-10 belongs to this file: r68 files it here, r63 (submitted by the fixture) for
the pages of the tour.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.web.i18n import gettext as _
from tests.browser.test_adopt import _shots_dir
from tests.conftest import PASSWORD

MONTH = 202810
WIDTH, HEIGHT = 360, 800
MANAGER = "r68-liguohua"
REVIEWER = "d4-liuhong"
R63_MANAGER = "r63-zhoujianguo"
REASON = "开设窗口数与上月不符，请核实后重报"
NOTE = "窗口手工登记1件，未录入系统"
OK_GREEN = "rgb(30, 123, 52)"  # --ok in static/css/app.css
YESNO = ("guide_public", "staff_cards", "fees_public", "complaint_phone")


async def _prepare() -> dict[str, Any]:
    """The 2028-10 period of the seed form, and r63's report of it submitted."""
    from app.reports import filing
    from tests.reports.helpers import filled, open_period, scope_of, seed_form

    form = await seed_form()
    period = await open_period(MONTH, form)
    scope = await scope_of(R63_MANAGER, "r63")
    report = await filing.load(scope, period["id"])
    if report.submission is None or report.submission["status"] in ("draft", "returned"):
        await filing.submit(
            scope,
            report,
            filled(report, staff="4", windows="3", agency="1"),
            corrections={},
            comments={"registered_change": "与上月口径一致", "open_days_range": "正常"},
            lock_version=report.lock_version,
        )
    return {"period": period, "form": form}


@pytest.fixture(scope="session")
def october() -> dict[str, Any]:
    """Set up before the live server starts (request it before ``live_server``)."""
    return asyncio.run(_prepare())


@pytest.fixture
def phone(_chromium: Any) -> Iterator[Any]:
    """A fresh page at 360x800 (the narrowest phone the app supports), zh-CN."""
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


def _fits(page: Any) -> None:
    """Nothing on the page scrolls sideways at 360 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"horizontal scrolling on {page.url}: scrollWidth {width}"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(_shots_dir() / f"report-{name}.png"), full_page=True)


def _idle(page: Any) -> None:
    """No htmx request on its way (an autosave, say)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _click(page: Any, selector: str) -> Any:
    """Click a submit button of an htmx-boosted form; wait until the answer replaced the page.

    Clicking may first blur a field that was just typed in, which starts an autosave: htmx
    queues the form's post behind it (the post then carries the new lock version)."""
    _idle(page)
    old = page.locator("main").element_handle()
    with page.expect_response(
        lambda r: r.request.method == "POST" and not _is_autosave(r)
    ) as posted:
        page.locator(selector).click()
    page.wait_for_function("m => !m.isConnected", arg=old)
    _idle(page)
    return posted.value


def _is_autosave(response: Any, *having: str) -> bool:
    body = response.request.post_data or ""
    return (
        response.request.method == "POST"
        and "action=autosave" in body
        and all(h in body for h in having)
    )


def _explain_warnings(page: Any) -> None:
    """Every warning that needs an explanation gets one."""
    boxes = page.locator(".rule-warn textarea")
    for i in range(boxes.count()):
        if not boxes.nth(i).input_value().strip():
            boxes.nth(i).fill("已核实，情况属实")


def _submit(page: Any) -> None:
    """Submit the report; explain a warning the server raised, once, if it refuses."""
    _explain_warnings(page)
    answer = _click(page, "#report-form button[name=action][value=submit]")
    if answer.status == 422 and page.locator(".rule-warn textarea").count():
        _explain_warnings(page)
        answer = _click(page, "#report-form button[name=action][value=submit]")
    assert answer.status < 400, page.locator("main").inner_text()[:2000]
    assert page.locator("#report-form").count() == 0, "still editable after submitting"
    assert page.locator(".report-tags .rstatus-submitted").count() == 1


def test_report_filed_returned_fixed_approved_on_a_phone(
    october: dict[str, Any], live_server: str, phone: Any
) -> None:
    page, base = phone, live_server
    pid = october["period"]["id"]
    form_url = f"{base}/t/r68/reports/{pid}"
    review_url = f"{base}/t/d4/reports/{pid}/c/r68"

    # 1. The manager finds the month in the centre's list and opens the form.
    _login(page, base, MANAGER)
    page.goto(f"{base}/t/r68/reports")
    assert page.locator(f"a[href='/t/r68/reports/{pid}']").count() == 1
    _fits(page)
    page.goto(form_url)
    assert page.locator("#report-form").is_visible()
    _fits(page)

    # 2. Some figures typed: saved automatically (status line), kept on the server.
    typed = {"agency": "2", "staff": "5", "windows": "4", "open_days": "22"}
    with page.expect_response(lambda r: _is_autosave(r, "f_open_days=22")) as saved:
        for key, value in typed.items():
            page.fill(f"#f-{key}", value)
        page.locator("#f-open_days").press("Tab")
    assert saved.value.status == 200
    page.wait_for_selector("#autosave-status .autosave-ok")
    _idle(page)
    status = page.locator("#autosave-status").inner_text()
    assert _("Saved automatically at %(time)s").split("%(time)s")[0].strip() in status
    assert re.search(r"\d\d:\d\d:\d\d", status)
    _fits(page)
    _shot(page, "form-autosaved")
    _idle(page)

    # The browser's own copy is dropped: what comes back after the reload is the server's.
    page.evaluate("window.localStorage.clear()")
    page.reload()
    for key, value in typed.items():
        assert page.input_value(f"#f-{key}") == value, key
    assert page.locator("[data-draft-notice]").is_hidden()

    # 3. The rest: yes/no, the choice, a corrected figure with its note, then 空项填0.
    for key in YESNO:
        page.check(f"input[name=f_{key}][value=yes]")
    page.locator("input[name=f_hours]").first.check()
    source = page.get_attribute("#f-registered", "data-source")
    assert source is not None and source.isdigit()
    registered = str(int(source) + 1)
    page.fill("#f-registered", registered)
    page.locator("#f-registered").press("Tab")
    note = page.locator("#note-registered")
    assert note.is_visible(), "the correction note shows once the figure differs"
    note.fill(NOTE)
    _click(page, "#report-form button[name=action][value=zero]")
    assert page.locator(".alert.ok").is_visible()
    for key in ("ab_posts", "bad"):
        assert page.input_value(f"#f-{key}") == "0", key
    assert page.input_value("#f-registered") == registered
    assert page.input_value("#note-registered") == NOTE
    assert page.locator("input[name=f_guide_public][value=yes]").is_checked()
    _fits(page)
    _shot(page, "form-zero-filled")

    # 4. Submit.
    _submit(page)
    _fits(page)
    _shot(page, "form-submitted")

    # 5. The division opens it, sees the correction, and returns it with a reason.
    _login(page, base, REVIEWER)
    page.goto(review_url)
    assert page.locator(".tags .status-submitted").count() == 1
    values = page.locator("section.values").inner_text()
    assert NOTE in values
    _fits(page)
    _shot(page, "review-submitted")
    page.fill("textarea[name=reason]", REASON)
    _click(page, "button[name=decision][value=return]")
    assert page.locator(".tags .status-returned").count() == 1
    _fits(page)

    # 6. The manager sees the reason, changes the figure, submits again.
    _login(page, base, MANAGER)
    page.goto(f"{base}/t/r68/reports")
    assert REASON in page.locator("main").inner_text()
    _fits(page)
    page.goto(form_url)
    assert REASON in page.locator(".report-access .return-reason").inner_text()
    assert page.input_value("#f-windows") == "4"
    _fits(page)
    _shot(page, "form-returned")
    page.fill("#f-windows", "5")
    page.locator("#f-windows").press("Tab")
    _submit(page)

    # 7. The division sees what changed, and approves.
    _login(page, base, REVIEWER)
    page.goto(review_url)
    changes = page.locator("table.changes").first.inner_text()
    assert "开设窗口数" in changes and "4" in changes and "5" in changes
    assert page.locator(".tags .status-submitted").count() == 1
    _fits(page)
    _click(page, "button[name=decision][value=approve]")
    assert page.locator(".tags .status-approved").count() == 1
    _fits(page)
    _shot(page, "review-approved")

    # 8. The grid: r68's cell for 2028-10 is approved — green, with the text.
    # The form named: other modules of this worker may add forms to d4 (listed first).
    form_id = october["form"]["id"]
    page.goto(f"{base}/t/d4/reports/grid?form={form_id}&from={MONTH}&to={MONTH}")
    cell = page.locator(f"tr[data-centre=r68] td[data-month='{MONTH}'] a.chip")
    assert cell.count() == 1
    assert "chip-approved" in (cell.get_attribute("class") or "").split()
    assert str(_("Approved")) in cell.inner_text()
    assert cell.evaluate("e => getComputedStyle(e).color") == OK_GREEN
    assert cell.get_attribute("href") == f"/t/d4/reports/{pid}/c/r68"
    _fits(page)
    _shot(page, "grid-approved")


def test_every_report_page_fits_a_phone(
    october: dict[str, Any], live_server: str, phone: Any
) -> None:
    """Each reports page at 360 px: no sideways scrolling; a screenshot of each."""
    page, base = phone, live_server
    pid, form_id = october["period"]["id"], october["form"]["id"]
    months = f"from={MONTH}&to={MONTH}"

    _login(page, base, R63_MANAGER)
    for name, path in (("list", "/t/r63/reports"), ("form", f"/t/r63/reports/{pid}")):
        page.goto(f"{base}{path}")
        assert page.locator("main h1").is_visible(), path
        _fits(page)
        _shot(page, f"tour-{name}")

    _login(page, base, REVIEWER)
    pages = (
        ("grid", f"/t/d4/reports/grid?{months}"),
        ("review", f"/t/d4/reports/{pid}/c/r63"),
        ("rollup", "/t/d4/reports/rollup?from=2028-10&to=2028-10"),
        ("rollup-field", "/t/d4/reports/rollup/registered?from=2028-10&to=2028-10"),
        ("forms", "/t/d4/report-forms"),
        ("editor", f"/t/d4/report-forms/{form_id}"),
        ("version", f"/t/d4/report-forms/{form_id}/v/1"),
    )
    for name, path in pages:
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, path
        _fits(page)
        _shot(page, f"tour-{name}")

    # The drill-down of one centre on the field page (htmx swap), then an export job.
    page.goto(f"{base}/t/d4/reports/rollup/registered?from=2028-10&to=2028-10")
    page.locator("ul.rollup-centres a[data-centre=r63]").click()
    page.wait_for_selector("#drill")
    _idle(page)
    _fits(page)
    _shot(page, "tour-rollup-drill")
    page.goto(f"{base}/t/d4/reports/rollup?from=2028-10&to=2028-10")
    page.locator("form.export-request button[type=submit]").click()
    page.wait_for_url(re.compile(r"/t/d4/reports/exports/\d+$"))
    assert page.locator("#export-status").is_visible()
    _fits(page)
    _shot(page, "tour-export")
