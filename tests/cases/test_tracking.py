"""The public lookup /t/<slug>/track: the answer, what it never shows, the limits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from app.cases import actions, tracking, workflow
from app.cases.queries import public as public_queries
from app.tenancy import queries as tenancy
from app.web.i18n import gettext
from tests import reliability
from tests.cases.helpers import DIBAO, RESIDENT_ID, actor_of, register, run, scope_of

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VOLATILE = (CSRF, re.compile(r'"X-CSRFToken": "[^"]*"'))


def unique_address() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@contextmanager
def public_client(address: str | None = None) -> Iterator[TestClient]:
    """An anonymous visitor from its own address (limits are counted per address)."""
    from app.main import create_app

    with TestClient(
        create_app(), follow_redirects=False, client=(address or unique_address(), 50000)
    ) as client:
        yield client


def token_of(client: TestClient, slug: str) -> str:
    page = client.get(f"/t/{slug}/track")
    assert page.status_code == 200, page.text[:300]
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def lookup(client: TestClient, slug: str, number: str, code: str) -> Any:
    return client.post(
        f"/t/{slug}/track",
        data={"csrf_token": token_of(client, slug), "number": number, "code": code},
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def unknown_number(slug: str = "r63") -> str:
    return f"{slug.upper()}-2026-9{secrets.randbelow(10**5):05d}"


def normalized(text: str, number: str) -> str:
    for pattern in VOLATILE:
        text = pattern.sub("{TOKEN}", text)
    return text.replace(number, "{NUMBER}")


def test_lookup_shows_the_public_steps_and_nothing_personal() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO, name="欧阳娜娜"))
    with public_client() as client:
        page = lookup(client, "r63", case["number"], case["lookup_code"])
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert case["number"] in text
    assert case["item_name"] in text
    assert str(workflow.STATES["accepted"]) in text
    assert gettext("Application accepted") in text
    assert "欧***" in text
    for secret in ("欧阳娜娜", RESIDENT_ID, "13912345678", case["lookup_code"]):
        assert secret not in text, secret
    assert page.headers["cache-control"] == "no-store"
    # The page offers no rating before conclusion.
    assert 'action="/t/r63/track/rate"' not in text


def test_receipt_qr_link_looks_up_at_once() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    with public_client() as client:
        page = client.get(
            f"/t/r63/track?number={case['number'].lower()}&code={case['lookup_code']}"
        )
        assert page.status_code == 200
        assert case["item_name"] in page.text
        bad = client.get(f"/t/r63/track?number={case['number']}&code=")
        assert bad.status_code == 422


def test_wrong_code_answers_exactly_like_an_unknown_number() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    with public_client() as client:
        wrong_code = lookup(client, "r63", case["number"], wrong(case["lookup_code"]))
        missing_number = unknown_number()
        unknown = lookup(client, "r63", missing_number, wrong(case["lookup_code"]))
    assert wrong_code.status_code == unknown.status_code == 422
    assert (
        gettext(
            "No case matches this number and lookup code. Check both on your receipt "
            "(the code has six digits)."
        )
        in wrong_code.text
    )
    assert normalized(wrong_code.text, case["number"]) == normalized(unknown.text, missing_number)
    assert case["item_name"] not in wrong_code.text
    assert sorted(wrong_code.headers.keys()) == sorted(unknown.headers.keys())


def test_another_centres_number_is_unknown_here() -> None:
    theirs = run(register("xb-clerk", "xb", DIBAO))
    with public_client() as client:
        at_xa = reliability.cross_tenant(
            lookup(client, "xa", theirs["number"], theirs["lookup_code"]), shows="CANARYB"
        )
        missing_number = unknown_number("xb")
        unknown = lookup(client, "xa", missing_number, theirs["lookup_code"])
        at_xb = lookup(client, "xb", theirs["number"], theirs["lookup_code"])
    assert at_xa.status_code == unknown.status_code == 422
    assert "CANARYB" not in at_xa.text
    assert normalized(at_xa.text, theirs["number"]) == normalized(unknown.text, missing_number)
    assert at_xb.status_code == 200  # the positive control


def _failures(slug: str, *, ip: str | None = None, number: str | None = None) -> int:
    async def go() -> int:
        tree = await tenancy.tree()
        tenant_id = tree.by_slug[slug].id
        scope = tracking.writer_scope(tree, tenant_id)
        since = datetime.now(UTC) - tracking.WINDOW
        return await public_queries.failures_since(scope, tenant_id, since, ip=ip, number=number)

    return int(run(go()))


def test_attempts_are_limited_per_address() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    address = unique_address()
    with public_client(address) as client:
        for _ in range(tracking.MAX_PER_ADDRESS):
            assert lookup(client, "r63", unknown_number(), "123456").status_code == 422
        assert _failures("r63", ip=address) == tracking.MAX_PER_ADDRESS  # counted in the DB
        # Even the right code is refused now, with 429 and a "try later" message.
        limited = lookup(client, "r63", case["number"], case["lookup_code"])
        assert limited.status_code == 429
        assert case["item_name"] not in limited.text
    # A second process (a new app, same database) sees the same count.
    with public_client(address) as again:
        assert lookup(again, "r63", case["number"], case["lookup_code"]).status_code == 429
    # Another address is not affected.
    with public_client() as other:
        assert lookup(other, "r63", case["number"], case["lookup_code"]).status_code == 200


def test_attempts_are_limited_per_number() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    for _ in range(tracking.MAX_PER_NUMBER):
        with public_client() as client:  # a new address each time
            assert (
                lookup(client, "r63", case["number"], wrong(case["lookup_code"])).status_code == 422
            )
    assert _failures("r63", number=case["number"]) == tracking.MAX_PER_NUMBER
    with public_client() as client:
        limited = lookup(client, "r63", case["number"], case["lookup_code"])
    assert limited.status_code == 429
    # An unknown number is limited the same way (nothing tells the two apart).
    missing = unknown_number()
    for _ in range(tracking.MAX_PER_NUMBER):
        with public_client() as client:
            assert lookup(client, "r63", missing, "123456").status_code == 422
    with public_client() as client:
        assert lookup(client, "r63", missing, "123456").status_code == 429


def test_pause_reason_and_note_are_shown() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    clerk = run(scope_of("r63-guzailinuer", "r63"))
    actor = run(actor_of("r63-guzailinuer"))
    run(actions.pause(clerk, case["id"], actor, "expert", "专家评审会定于下周三召开"))
    with public_client() as client:
        page = lookup(client, "r63", case["number"], case["lookup_code"])
    assert page.status_code == 200
    assert str(workflow.PAUSE_REASONS["expert"]) in page.text
    assert "专家评审会定于下周三召开" in page.text
    assert actor.name not in page.text  # staff names stay internal


def test_returned_case_shows_its_reason() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    clerk = run(scope_of("r63-guzailinuer", "r63"))
    actor = run(actor_of("r63-guzailinuer"))
    run(actions.return_case(clerk, case["id"], actor, "申请事项不属于本中心受理范围"))
    with public_client() as client:
        page = lookup(client, "r63", case["number"], case["lookup_code"])
    assert page.status_code == 200
    assert str(workflow.STATES["returned"]) in page.text
    assert "申请事项不属于本中心受理范围" in page.text


def test_public_post_needs_csrf_and_staff_pages_still_need_login() -> None:
    with public_client() as client:
        refused = client.post("/t/r63/track", data={"number": "R63-2026-000001", "code": "1"})
        assert refused.status_code == 403
        for path in ("/t/r63/rectifications", "/t/r63/cases", "/t/r63/"):
            response = client.get(path)
            assert response.status_code in (302, 303), (path, response.status_code)
        token = token_of(client, "r63")
        staff_post = client.post("/t/r63/rectifications/1", data={"csrf_token": token})
        assert staff_post.status_code in (302, 303)
