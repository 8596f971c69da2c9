"""DESIGN rule 4: every unsafe request carries the session's CSRF token (form field or header).

Every route of ``create_app()`` that accepts POST/PUT/PATCH/DELETE is posted to with the
tenant ``xa``'s own, real values (so only the CSRF layer stands in the way): without a token,
with a wrong one, and anonymously.  Each answer must be the 403 page, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from markupsafe import escape

from tests.security.harness import (
    UNSAFE,
    Endpoint,
    Factory,
    World,
    app_endpoints,
    issue_link,
    load_world,
    missing_params,
    plausible_form,
    random_token,
    signed_in,
)

OWN = "xa"

# Path parameter → a real value of the user's OWN tenant (xa).
REGISTRY: dict[str, Factory] = {
    "slug": lambda w: OWN,
    "member_id": lambda w: str(w.member_ids[f"{OWN}/xa-clerk"]),
    "tenant_id": lambda w: str(w.tenant_ids[OWN]),
    "token": lambda w: w.link_token,  # type: ignore[attr-defined]
    "file_id": lambda w: str(w.file_ids[OWN]),
    "item_id": lambda w: str(w.inbox_ids["xa-manager"]),
    "code": lambda w: w.item_codes["d4"],  # d4's catalogue is xa's to read
    "number": lambda w: "1",
    "index": lambda w: "0",
    "rectification_id": lambda w: str(w.rectification_ids[OWN]),
    "seal_id": lambda w: str(w.seal_ids[OWN]),
    "case_id": lambda w: str(w.case_ids[OWN]),
    "document_id": lambda w: str(w.document_ids[OWN]),
    "period_id": lambda w: str(w.report_period_ids["d4"]),  # d4's periods are xa's to file
    "form_id": lambda w: str(w.report_form_ids["d4"]),
    "centre": lambda w: OWN,
    "field": lambda w: "registered",
    "job_id": lambda w: str(w.export_job_ids[OWN]),
    "inspection_id": lambda w: str(w.oversight["inspection_open"][OWN]),
    "section": lambda w: "0",
    "photo_id": lambda w: str(w.oversight["photo"][OWN]),
    "log_id": lambda w: str(w.oversight["log"][OWN]),
    "doc_id": lambda w: str(w.oversight["doc"][OWN]),
    "circular_id": lambda w: str(w.oversight["circular"][OWN]),
    "attachment_id": lambda w: str(w.oversight["attachment"][OWN]),
    "checklist_id": lambda w: str(w.oversight["checklist"]["d4"]),
    "draw_id": lambda w: str(w.oversight["draw"]["d4"]),
    "evidence_id": lambda w: str(w.oversight["evidence"][OWN]),
}

ENDPOINTS = app_endpoints()
UNSAFE_ROUTES = [
    pytest.param(ep, method, id=f"{method} {ep.path}")
    for ep in ENDPOINTS
    for method in ep.methods
    if method in UNSAFE
]


class OwnWorld:
    """The seeded ids plus a real, unused set-password token of xa-clerk."""

    def __init__(self, world: World, link_token: str) -> None:
        self.tenant_ids = world.tenant_ids
        self.member_ids = world.member_ids
        self.file_ids = world.file_ids
        self.inbox_ids = world.inbox_ids
        self.item_codes = world.item_codes
        self.rectification_ids = world.rectification_ids
        self.seal_ids = world.seal_ids
        self.case_ids = world.case_ids
        self.document_ids = world.document_ids
        self.report_period_ids = world.report_period_ids
        self.report_form_ids = world.report_form_ids
        self.export_job_ids = world.export_job_ids
        self.oversight = world.oversight
        self.link_token = link_token


@pytest.fixture(scope="module")
def world() -> OwnWorld:
    return OwnWorld(load_world(), issue_link("xa-clerk"))


@pytest.fixture(scope="module")
def sessions() -> Iterator[dict[str, tuple[Any, str]]]:
    opened = {user: signed_in(user) for user in ("xa-manager", "admin")}
    yield opened
    for client, _token in opened.values():
        client.__exit__(None, None, None)


@pytest.fixture
def anonymous() -> Iterator[tuple[Any, str]]:
    client, token = signed_in(None)
    yield client, token
    client.__exit__(None, None, None)


def user_for(ep: Endpoint) -> str:
    return "admin" if ep.path.startswith("/admin") else "xa-manager"


def forbidden_page(locale: str) -> tuple[str, str, str]:
    from app.web import i18n
    from app.web.pages import messages

    reset = i18n.set_locale(locale)
    try:
        title, text = messages(403)
    finally:
        i18n._current.reset(reset)
    lang = "zh-Hans" if locale == "zh_Hans" else "en"
    return str(escape(title)), str(escape(text)), f'<html lang="{lang}">'


def assert_rejected(response: Any, what: str, locale: str = "zh_Hans", htmx: bool = False) -> None:
    assert response.status_code == 403, f"{what}: {response.status_code}\n{response.text[:400]}"
    title, text, html_tag = forbidden_page(locale)
    assert "403" in response.text, what
    assert title in response.text and text in response.text, f"{what}: not the 403 page"
    if htmx:
        assert "<html" not in response.text, f"{what}: htmx got a full page"
    else:
        assert html_tag in response.text, f"{what}: 403 page not in {locale}"


def test_registry_covers_every_path_parameter() -> None:
    problems = missing_params(ENDPOINTS, REGISTRY)
    assert not problems, "\n".join(problems)


def test_some_unsafe_routes_exist() -> None:
    paths = {p.values[0].path for p in UNSAFE_ROUTES}
    assert {"/login", "/logout", "/language", "/t/{slug}/staff"} <= paths, paths


@pytest.mark.parametrize(("ep", "method"), UNSAFE_ROUTES)
def test_unsafe_request_needs_the_token(
    ep: Endpoint, method: str, world, sessions, anonymous
) -> None:
    problems = missing_params([ep], REGISTRY)
    if problems:
        pytest.fail("\n".join(problems))
    url = ep.url({name: REGISTRY[name](world) for name in ep.params})  # type: ignore[arg-type]
    user = user_for(ep)
    client, _token = sessions[user]
    parent = str(world.tenant_ids["d4"])
    wrong = random_token()
    cases: list[tuple[str, Any, dict[str, Any], dict[str, str]]] = [
        ("no token", client, plausible_form(None, parent_id=parent), {}),
        ("wrong token", client, plausible_form(wrong, parent_id=parent), {}),
        ("empty token", client, plausible_form("", parent_id=parent), {}),
        ("wrong header", client, plausible_form(None, parent_id=parent), {"X-CSRFToken": wrong}),
        ("anonymous, no token", anonymous[0], plausible_form(None, parent_id=parent), {}),
        # Someone else's valid token (the anonymous session's) is not this session's.
        ("another session's token", client, plausible_form(anonymous[1], parent_id=parent), {}),
    ]
    for label, who, body, headers in cases:
        response = who.request(method, url, data=body, headers=headers)
        assert_rejected(response, f"{method} {url} as {user} ({label})")
    htmx = client.request(method, url, data=plausible_form(None), headers={"HX-Request": "true"})
    assert_rejected(htmx, f"{method} {url} as {user} (htmx, no token)", htmx=True)
    multipart = client.request(
        method, url, data=plausible_form(wrong), files={"upload": ("a.txt", b"x", "text/plain")}
    )
    assert_rejected(multipart, f"{method} {url} as {user} (multipart, wrong token)")
    english = anonymous[0]
    english.cookies.set("bm_lang", "en")
    try:
        response = english.request(method, url, data=plausible_form(None))
    finally:
        english.cookies.delete("bm_lang")
    assert_rejected(response, f"{method} {url} anonymous in English", locale="en")


def test_rejected_posts_changed_nothing(world, sessions) -> None:
    """Runs after the walk: the session, xa-clerk's membership and link are all intact."""
    client, _token = sessions["xa-manager"]
    assert client.get("/password").status_code == 200  # POST /logout did not log out
    staff = client.get(f"/t/{OWN}/staff")
    assert staff.status_code == 200
    assert "probe-user" not in staff.text
    assert 'class="inactive"' not in staff.text  # deactivate was refused
    page = client.get(f"/password/set/{world.link_token}")
    assert page.status_code == 200  # set-password link still unused
    admin, _token = sessions["admin"]
    assert "probe-centre" not in admin.get("/admin/tenants").text


# --- the token is accepted where it should be -------------------------------------------


def test_multipart_form_field_is_accepted(anonymous) -> None:
    client, token = anonymous
    response = client.post(
        "/language",
        data={"csrf_token": token, "locale": "zh_Hans", "next": "/login"},
        files={"attachment": ("note.txt", "便民".encode(), "text/plain")},
    )
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 303, response.text[:400]
    assert response.headers["location"] == "/login"


def test_multipart_body_reaches_the_view_intact(sessions) -> None:
    """The CSRF layer reads the body and replays it: what the user typed comes back."""
    client, token = sessions["xa-manager"]
    response = client.post(
        f"/t/{OWN}/staff",
        data={"csrf_token": token, "username": "Not Valid!", "display_name": "回放测试甲"},
        files={"attachment": ("note.txt", b"x", "text/plain")},
    )
    assert response.status_code == 422, response.text[:400]
    assert "回放测试甲" in response.text


def test_header_token_works_for_htmx(sessions, anonymous) -> None:
    client, token = sessions["xa-manager"]
    # Header only (no csrf_token field): the view is reached and validates the form.
    response = client.post(f"/t/{OWN}/staff", data={"username": ""}, headers={"X-CSRFToken": token})
    assert response.status_code == 422, response.text[:400]
    # A boosted htmx form (what hx-boost on <body> sends) gets the full page.
    boosted = client.post(
        f"/t/{OWN}/staff",
        data={"username": ""},
        headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Boosted": "true"},
    )
    assert boosted.status_code == 422, boosted.text[:400]
    anon, anon_token = anonymous
    switched = anon.post(
        "/language",
        data={"locale": "zh_Hans", "next": "/login"},
        headers={"X-CSRFToken": anon_token, "HX-Request": "true"},
    )
    assert switched.status_code == 303, switched.text[:400]


def test_header_token_htmx_fragment(sessions) -> None:
    client, token = sessions["xa-manager"]
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    response = client.post(f"/t/{OWN}/staff", data={"username": ""}, headers=headers)
    assert response.status_code == 422, response.text[:400]  # reached the view, form invalid
    assert "<html" not in response.text  # the fragment, not the page
