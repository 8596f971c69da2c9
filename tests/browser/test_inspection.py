"""An inspection on a phone (360x740), through the real app in chromium.

The division's inspector (d4-liuhong) starts a spot check of xa with the test checklist,
enters a score (saved automatically), takes a photo (uploaded at once), reloads the page in
the middle — the score and the photo are still there — fills the next section, writes a
finding on the summary page and submits; the result page shows the score and the finding.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.inspections.helpers import PNG, checklist

WIDTH, HEIGHT = 360, 740
INSPECTOR = "d4-liuhong"


@pytest.fixture(scope="session")
def test_checklist() -> dict[str, Any]:
    """Created before the live server starts (request it before ``live_server``)."""
    return asyncio.run(checklist())


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


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH + 1, f"horizontal scrolling on {page.url}: scrollWidth {width}"


def _db(coro: Any) -> Any:
    """Run a database coroutine beside Playwright's own event loop (another thread)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _saved(response: Any) -> bool:
    return response.request.method == "POST" and response.url.endswith("/save")


def test_inspection_on_a_phone(
    test_checklist: dict[str, Any], live_server: str, phone: Any
) -> None:
    base = live_server
    _login(phone, base, INSPECTOR)
    phone.goto(f"{base}/t/d4/inspections/new?centre=xa")
    _fits(phone)
    phone.select_option("select[name=checklist]", str(test_checklist["id"]))
    phone.locator("button[name=action][value=start]").click()
    phone.wait_for_url(re.compile(r"/inspections/\d+/fill/0$"))
    fill_url = phone.url
    _fits(phone)
    # the quick buttons appear once the script runs; tap targets are at least 44 px
    quick = phone.locator("fieldset[data-item=h2] button.quick-score").first
    quick.wait_for(state="visible")
    box = quick.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44

    # a score, saved automatically
    with phone.expect_response(lambda r: _saved(r) and r.status == 200):
        phone.fill("input[name=score_h1]", "2.5")
    # a photo from the camera, uploaded at once
    with phone.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/photos") and r.status == 201
    ):
        phone.set_input_files(
            "input[name=photo_h1]",
            files=[{"name": "h1.png", "mimeType": "image/png", "buffer": PNG}],
        )
    phone.locator("[data-photos=h1] .thumb img").first.wait_for()

    # reload in the middle: the score and the photo are still there
    phone.reload()
    phone.wait_for_url(fill_url)
    assert phone.input_value("input[name=score_h1]") == "2.5"
    assert phone.locator("[data-photos=h1] .thumb img").count() == 1
    # the thumbnail really loads (waits: under load the image can still be on its way)
    phone.wait_for_function(
        "() => { const i = document.querySelector('[data-photos=h1] img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=15000,
    )

    # the rest of the section with a quick button, then the next section
    phone.locator("fieldset[data-item=h2] button.quick-score[data-score='2.5']").click()
    assert phone.input_value("input[name=score_h2]") == "2.5"
    phone.locator("button[name=go][value=next]").click()
    phone.wait_for_url(re.compile(r"/fill/1$"))
    phone.fill("input[name=score_d1]", "3")
    phone.fill("textarea[name=note_d1]", "首问登记不全")
    phone.locator("button[name=go][value=summary]").click()
    phone.wait_for_url(re.compile(r"/inspections/\d+$"))
    _fits(phone)

    # the summary lists the unanswered item; a finding; submit
    assert "d2" in phone.locator(".alert.warn").inner_text()
    phone.fill("textarea[name=finding_text_0]", "首问负责制登记不全，请完善登记")
    phone.select_option("select[name=finding_item_0]", "d1")
    phone.locator("form.findings-form button[type=submit]").click()
    phone.wait_for_url(re.compile(r"/inspections/\d+\?done=submitted$"))
    text = phone.locator("main").inner_text()
    assert "80.00%" in text  # 2.5 + 2.5 + 3 of 10
    assert "首问负责制登记不全" in text
    assert phone.locator("a[href*='/rectifications/']").count() == 1
    _fits(phone)


def test_offline_entries_are_sent_when_back_online(
    test_checklist: dict[str, Any], live_server: str, phone: Any
) -> None:
    """Offline, a score and a photo stay on the phone (localStorage, IndexedDB); when the
    connection is back both are sent, once."""
    from app.inspections import inspections as service
    from app.inspections.queries import inspections as queries
    from tests.inspections.helpers import inspector, start

    inspection_id = _db(start("xb"))
    base = live_server
    _login(phone, base, INSPECTOR)
    phone.goto(f"{base}/t/d4/inspections/{inspection_id}/fill/0")
    phone.locator("fieldset[data-item=h2] button.quick-score").first.wait_for(state="visible")

    phone.context.set_offline(True)
    phone.fill("input[name=score_h2]", "1.5")
    phone.wait_for_function(
        "() => { const s = document.querySelector('[data-save-status]');"
        " return s && !s.hidden && s.classList.contains('warn'); }"
    )
    phone.set_input_files(
        "input[name=photo_h1]", files=[{"name": "h1.png", "mimeType": "image/png", "buffer": PNG}]
    )
    phone.locator("[data-photos=h1] .thumb.pending").wait_for()
    queued = phone.evaluate(
        f"() => JSON.parse(localStorage.getItem('bianmin-inspection-queue:{inspection_id}') || '[]').length"
    )
    assert queued >= 1
    scope = _db(inspector())
    assert _db(service.load(scope, inspection_id)).answers.get("h2") is None

    with phone.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/photos") and r.status == 201
    ):
        phone.context.set_offline(False)
    phone.wait_for_function(
        f"() => !localStorage.getItem('bianmin-inspection-queue:{inspection_id}')"
    )
    assert _db(service.load(scope, inspection_id)).answers["h2"]["score"] == "1.5"
    assert len(_db(queries.photos(scope, inspection_id))) == 1
    phone.reload()
    assert phone.input_value("input[name=score_h2]") == "1.5"
    assert phone.locator("[data-photos=h1] .thumb:not(.pending) img").count() == 1
