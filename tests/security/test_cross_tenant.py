"""DESIGN rule 1: an object of another tenant answers 404, exactly like a missing one.

Every route of ``create_app()`` is walked with the users of tenant ``xa`` asking for the
objects of tenant ``xb`` (whose every visible text carries ``CANARYB``).  A path parameter the
REGISTRY cannot fill fails the walk: a new route has to say how to point it at ``xb``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests import reliability
from tests.security.harness import (
    Endpoint,
    Factory,
    World,
    app_endpoints,
    body_text,
    endpoints,
    load_world,
    missing_params,
    plausible_form,
    random_token,
    signed_in,
)

CANARY = "CANARYB"
OTHER = "xb"  # the tenant being attacked
OWN = "xa"  # the attacker's own tenant
PARENT = "d4"  # their common division (not a membership of the xa users either)
ROLES = ("xa-manager", "xa-clerk")
MISSING_SLUG = "does-not-exist"

# Path parameter → a value belonging to the OTHER tenant (xb).
REGISTRY: dict[str, Factory] = {
    "slug": lambda w: OTHER,
    "member_id": lambda w: str(w.member_ids[f"{OTHER}/xb-manager"]),
    "tenant_id": lambda w: str(w.tenant_ids[OTHER]),
    # A set-password token that is not the user's (nor anybody's).
    "token": lambda w: random_token(),
    "file_id": lambda w: str(w.file_ids[OTHER]),
    # Another person's inbox message (personal rows: not even the same centre may open it).
    "item_id": lambda w: str(w.inbox_ids["xb-manager"]),
    # xa and xb legitimately share d4's catalogue: attack with ANOTHER division's item (x2).
    "code": lambda w: w.item_codes["x2"],
    "number": lambda w: "1",
    "index": lambda w: "0",
    "rectification_id": lambda w: str(w.rectification_ids[OTHER]),
    "case_id": lambda w: str(w.case_ids[OTHER]),
    "document_id": lambda w: str(w.document_ids[OTHER]),
    "seal_id": lambda w: str(w.seal_ids[OTHER]),
    # Monthly reports.  Periods and forms are shared definitions of a division (xa reads
    # d4's): attack with ANOTHER division's (x2); xb's report itself is reached through the
    # routes that name a centre (ROUTE_VALUES below).
    "period_id": lambda w: str(w.report_period_ids["x2"]),
    "form_id": lambda w: str(w.report_form_ids["x2"]),
    "centre": lambda w: OTHER,
    "field": lambda w: "registered",
    "job_id": lambda w: str(w.export_job_ids[OTHER]),
    # Issue 7: xb's inspection (and photo), work log, document, rectification evidence; a
    # circular d4 addressed to xb only (and its attachment); x2's checklist and draw.
    "inspection_id": lambda w: str(w.oversight["inspection"][OTHER]),
    "section": lambda w: "0",
    "photo_id": lambda w: str(w.oversight["photo"][OTHER]),
    "log_id": lambda w: str(w.oversight["log"][OTHER]),
    "doc_id": lambda w: str(w.oversight["doc"][OTHER]),
    "circular_id": lambda w: str(w.oversight["circular"][OTHER]),
    "attachment_id": lambda w: str(w.oversight["attachment"][OTHER]),
    "checklist_id": lambda w: str(w.oversight["checklist"]["x2"]),
    "draw_id": lambda w: str(w.oversight["draw"]["x2"]),
    "evidence_id": lambda w: str(w.oversight["evidence"][OTHER]),
}
# Positive controls for pages whose REGISTRY values are not xb's: (slug, user) entitled to them.
POSITIVE = {
    "/t/{slug}/items/export.xlsx": (OTHER, "xb-manager"),  # xb's adoptions (canary note)
    "/t/{slug}/catalogue": ("x2", "x2-supervisor"),
    "/t/{slug}/items": ("x2", "x2-supervisor"),  # a centre's view of its division's items
    "/t/{slug}/guide/{code}/sample": ("x2", "x2-supervisor"),  # x2's sample (canary bytes)
    # Reports: x2 files its own form (its supervisor reads it); d4 reviews xb's report.
    "/t/{slug}/report-forms": ("x2", "x2-supervisor"),
    "/t/{slug}/reports/{period_id}/c/": ("d4", "d4-liuhong"),
    "/t/{slug}/reports/{period_id:int}/c/": ("d4", "d4-liuhong"),
    "/t/{slug}/reports/{period_id}/export": (OTHER, "xb-manager"),
    "/t/{slug}/reports/{period_id:int}/export": (OTHER, "xb-manager"),
    "/t/{slug}/reports/grid": ("d4", "d4-liuhong"),
    "/t/{slug}/reports/rollup": ("d4", "d4-liuhong"),
    "/t/{slug}/reports/{period_id}": ("x2", "x2-supervisor"),
    "/t/{slug}/reports/{period_id:int}": ("x2", "x2-supervisor"),
    # Issue 7: the division's pages (its supervisor sees xb in them); x2's definitions.
    "/t/{slug}/supervision/settings": ("x2", "x2-supervisor"),  # x2's own setting
    "/t/{slug}/supervision": ("d4", "d4-liuhong"),
    "/t/{slug}/inspections/{inspection_id:int}/fill/": ("d4", "d4-liuhong"),
    "/t/{slug}/rectifications/overview": ("d4", "d4-liuhong"),
    "/t/{slug}/documents/gaps": ("d4", "d4-liuhong"),
    "/t/{slug}/circulars/new": ("d4", "d4-liuhong"),
    "/t/{slug}/inspections/new": ("d4", "d4-liuhong"),
    "/t/{slug}/assessment/centres/": ("d4", "d4-liuhong"),
    "/t/{slug}/checklists": ("x2", "x2-supervisor"),
    "/t/{slug}/draws": ("x2", "x2-supervisor"),
}

# Values for routes that need their own (route → parameter → factory), before REGISTRY's.
ROUTE_VALUES: dict[str, dict[str, Factory]] = {
    "/t/{slug}/cases/{case_id:int}/files/{file_id:int}": {
        "file_id": lambda w: str(w.case_file_ids[OTHER])
    },
    # An inspection being filled: only the division's inspectors open its sections.
    "/t/{slug}/inspections/{inspection_id:int}/fill/{section:int}": {
        "inspection_id": lambda w: str(w.oversight["inspection_open"][OTHER])
    },
    # A centre's guide shows the items IT adopted: xb's is a d4 item only xb adopted.
    "/t/{slug}/guide/{code}": {"code": lambda w: w.guide_codes[OTHER]},
}
# xb's own report lives in a period of d4 (where xa has none): the routes naming a centre,
# and the export of "my report" (404 for xa: it has no report in that period).
for _path in (
    "/t/{slug}/reports/{period_id}/c/{centre}",
    "/t/{slug}/reports/{period_id}/c/{centre}/exception",
    "/t/{slug}/reports/{period_id}/c/{centre}/export.xlsx",
    "/t/{slug}/reports/{period_id}/export.xlsx",
    "/t/{slug}/reports/{period_id:int}/export.xlsx",
):
    ROUTE_VALUES[_path] = {"period_id": lambda w: str(w.report_period_ids["d4"])}
# Public pages (GET without login: guide, power list, hall screen, see the tenant middleware).
# Anyone may read xb's, so there a signed-in xa user must get exactly what an anonymous
# visitor gets; under any other slug xb's canary never shows, and a parameter naming one
# centre's own object (its adoption, by code) answers 404 there.
PUBLIC = re.compile(r"^/t/\{slug\}/(?:guide|power-list|screen|track)(?:/|$)")
# The case lookup and rating also take the public's POSTs (its own forms, with a CSRF token).
PUBLIC_POST = re.compile(r"^/t/\{slug\}/track(?:/|$)")
CENTRE_OBJECTS = {"code"}
# Public routes served by the item's OWNER division only: under the centre xb they are 404.
DIVISION_PUBLIC = {"/t/{slug}/guide/{code}/sample/{index}"}
ANONYMOUS = "anonymous"

ENDPOINTS = app_endpoints()


def value(ep: Endpoint, name: str, world: World) -> str:
    return ROUTE_VALUES.get(ep.path, {}).get(name, REGISTRY[name])(world)


def is_public(ep: Endpoint, method: str = "GET") -> bool:
    return method == "GET" and bool(PUBLIC.match(ep.path))


def public_post_is_public(ep: Endpoint, user: str, world: World, sessions: Any) -> None:
    """A public form's POST: a signed-in xa user gets what an anonymous visitor gets, and no
    guess at the form finds anything of xb (the plausible body names no real case)."""
    client, token = sessions[user]
    anonymous, anonymous_token = sessions[ANONYMOUS]
    for label, values in variants(ep, world):
        url = ep.url(values)
        what = f"POST {url} ({label}) as {user}"
        response = client.post(url, data=plausible_form(token))
        public = anonymous.post(url, data=plausible_form(anonymous_token))
        # Under xb's own slug its public name shows: there a leak is finding anything.
        reliability.probe(
            response.status_code != 422 if values["slug"] == OTHER else shows_canary(response)
        )
        assert response.status_code == public.status_code, what
        if values["slug"] == OTHER:  # xb's public page (its name is public): nothing found
            assert response.status_code == 422, f"{what}: {response.status_code}"
            continue
        no_canary(response, what)


def variants(ep: Endpoint, world: World) -> list[tuple[str, dict[str, str]]]:
    """(label, values): all of xb; and xb's objects under the user's own / the parent slug."""
    values = {name: value(ep, name, world) for name in ep.params}
    out = [("xb", values)]
    if "slug" in values and len(values) > 1:
        out.append(("own slug, xb object", {**values, "slug": OWN}))
        out.append(("division slug, xb object", {**values, "slug": PARENT}))
    return out


def probes() -> list[Any]:
    return [
        pytest.param(ep, method, user, id=f"{method} {ep.path} as {user}")
        for ep in ENDPOINTS
        if ep.params or ep.tenant_bound
        for method in ep.methods
        for user in ROLES
    ]


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


@pytest.fixture(scope="module")
def sessions() -> Iterator[dict[str, tuple[Any, str]]]:
    opened: dict[str, tuple[Any, str]] = {}
    for user in (*ROLES, "xb-manager", "d4-liuhong"):
        opened[user] = signed_in(user)
    opened[ANONYMOUS] = signed_in(None)
    yield opened
    for client, _token in opened.values():
        client.__exit__(None, None, None)


def shows_canary(response: Any) -> bool:
    return CANARY in body_text(response) or any(CANARY in v for v in response.headers.values())


def probed(response: Any) -> Any:
    """Count one cross-tenant request (a leak: the canary in its answer) and return it."""
    reliability.probe(shows_canary(response))
    return response


def no_canary(response: Any, what: str) -> None:
    assert CANARY not in body_text(response), f"{what}: {CANARY} leaked in the body"
    for name, value in response.headers.items():
        assert CANARY not in value, f"{what}: {CANARY} leaked in header {name}"


def request(client: Any, method: str, url: str, token: str, htmx: bool = False) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.request(method, url, data=plausible_form(token), headers=headers)


def test_registry_covers_every_path_parameter() -> None:
    problems = missing_params(ENDPOINTS, REGISTRY)
    assert not problems, "\n".join(problems)


def test_registry_check_catches_a_new_route() -> None:
    """A route (even inside a Mount) with an unregistered parameter is named in the failure."""
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    async def view(request: Any) -> Response:
        return Response("")

    fake = endpoints(
        [
            Route("/t/{slug}/", view),
            Mount("/t/{slug}/gadgets", routes=[Route("/{gadget_id:int}", view, methods=["POST"])]),
        ]
    )
    assert [e.path for e in fake] == ["/t/{slug}/", "/t/{slug}/gadgets/{gadget_id:int}"]
    problems = missing_params(fake, REGISTRY)
    assert len(problems) == 1
    assert "'/t/{slug}/gadgets/{gadget_id:int}'" in problems[0]
    assert "'gadget_id'" in problems[0] and "add it to REGISTRY" in problems[0]


def test_walk_is_not_empty() -> None:
    probed = {ep.path for ep in ENDPOINTS if ep.params or ep.tenant_bound}
    assert "/t/{slug}/" in probed and "/t/{slug}/staff/{member_id}" in probed, probed


@pytest.mark.parametrize(("ep", "method", "user"), probes())
def test_other_tenant_is_not_found(ep: Endpoint, method: str, user: str, world, sessions) -> None:
    problems = missing_params([ep], REGISTRY)
    if problems:
        pytest.fail("\n".join(problems))
    client, token = sessions[user]
    if is_public(ep, method):
        public_page_is_public(ep, user, world, sessions)
        return
    if method == "POST" and PUBLIC_POST.match(ep.path):
        public_post_is_public(ep, user, world, sessions)
        return
    allowed = {403, 404} if ep.tenant_bound else {404}
    for label, values in variants(ep, world):
        url = ep.url(values)
        for htmx in (False, True):
            response = probed(request(client, method, url, token, htmx=htmx))
            what = f"{method} {url} ({label}{', htmx' if htmx else ''}) as {user}"
            assert response.status_code in allowed, (
                f"{what}: {response.status_code}, expected one of {sorted(allowed)}\n"
                f"{response.text[:400]}"
            )
            no_canary(response, what)


def public_page_is_public(ep: Endpoint, user: str, world: World, sessions: Any) -> None:
    client, _token = sessions[user]
    anonymous, _token = sessions[ANONYMOUS]
    for label, values in variants(ep, world):
        url = ep.url(values)
        for htmx in (False, True):
            what = f"GET {url} ({label}{', htmx' if htmx else ''}) as {user}"
            response = request(client, "GET", url, "", htmx=htmx)
            public = request(anonymous, "GET", url, "", htmx=htmx)
            # xb's public pages show its name: there a leak is more than the public sees.
            reliability.probe(
                response.status_code != public.status_code
                or (htmx and normalized(response, url) != normalized(public, url))
                if values["slug"] == OTHER
                else shows_canary(response)
            )
            assert response.status_code == public.status_code, (
                f"{what}: {response.status_code}, anonymous got {public.status_code}"
            )
            if htmx:  # the fragment holds no shell: it must be the very same
                assert normalized(response, url) == normalized(public, url), what
            if values["slug"] == OTHER:
                expected = 404 if ep.path in DIVISION_PUBLIC else 200
                assert response.status_code == expected, f"{what}: {response.status_code}"
                continue
            if CENTRE_OBJECTS & set(ep.params):
                assert response.status_code == 404, f"{what}: {response.status_code}"
            no_canary(response, what)


@pytest.mark.parametrize(
    "ep",
    [e for e in ENDPOINTS if not (e.params or e.tenant_bound) and "GET" in e.methods],
    ids=lambda e: e.path,
)
@pytest.mark.parametrize("user", ROLES)
def test_global_pages_do_not_leak(ep: Endpoint, user: str, sessions) -> None:
    client, _token = sessions[user]
    response = probed(client.get(ep.path))
    assert response.status_code < 500, f"GET {ep.path} as {user}: {response.status_code}"
    no_canary(response, f"GET {ep.path} as {user}")


# --- 404 exactly like a missing one ----------------------------------------------------

VOLATILE = [
    re.compile(r'name="csrf_token" value="[^"]*"'),
    re.compile(r'"X-CSRFToken": "[^"]*"'),
    re.compile(r"<time[^>]*>.*?</time>", re.S),  # the hall screen's clock
]
SAME_HEADERS_EXCEPT = {"date", "x-request-id", "set-cookie", "content-length"}


def header_names(response: Any) -> list[str]:
    return sorted(k for k in response.headers if k.lower() not in SAME_HEADERS_EXCEPT)


def normalized(response: Any, path: str) -> str:
    text = response.text.replace(path, "{PATH}")
    for pattern in VOLATILE:
        text = pattern.sub("{TOKEN}", text)
    return text


@pytest.mark.parametrize(
    "ep",
    [
        e
        for e in ENDPOINTS
        if e.path.startswith("/t/{slug}") and "GET" in e.methods and not is_public(e)
    ],
    ids=lambda e: e.path,
)
@pytest.mark.parametrize("user", ROLES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_other_tenant_looks_missing(ep: Endpoint, user: str, htmx: bool, world, sessions) -> None:
    client, _token = sessions[user]
    values = {name: value(ep, name, world) for name in ep.params}
    headers = {"HX-Request": "true"} if htmx else {}
    theirs_path = ep.url(values)
    missing_path = ep.url({**values, "slug": MISSING_SLUG})
    theirs = probed(client.get(theirs_path, headers=headers))
    missing = client.get(missing_path, headers=headers)
    assert theirs.status_code == missing.status_code == 404, (
        theirs.status_code,
        missing.status_code,
    )
    assert normalized(theirs, theirs_path) == normalized(missing, missing_path)
    assert header_names(theirs) == header_names(missing)
    for name in header_names(theirs):
        assert theirs.headers[name] == missing.headers[name], name


@pytest.mark.parametrize(
    "ep",
    [e for e in ENDPOINTS if is_public(e) and CENTRE_OBJECTS & set(e.params)],
    ids=lambda e: e.path,
)
@pytest.mark.parametrize("user", (*ROLES, ANONYMOUS))
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_other_centres_public_object_looks_missing(
    ep: Endpoint, user: str, htmx: bool, world, sessions
) -> None:
    """xb's adoption under xa's public pages answers like an object that does not exist."""
    client, _token = sessions[user]
    values = {name: value(ep, name, world) for name in ep.params}
    missing = {name: "NO-SUCH-0000" for name in CENTRE_OBJECTS & set(ep.params)}
    headers = {"HX-Request": "true"} if htmx else {}
    theirs_path = ep.url({**values, "slug": OWN})
    missing_path = ep.url({**values, **missing, "slug": OWN})
    theirs = probed(client.get(theirs_path, headers=headers))
    absent = client.get(missing_path, headers=headers)
    assert theirs.status_code == absent.status_code == 404, (theirs.status_code, absent.status_code)
    no_canary(theirs, f"GET {theirs_path} as {user}")
    assert normalized(theirs, theirs_path) == normalized(absent, missing_path)
    assert header_names(theirs) == header_names(absent)
    for name in header_names(theirs):
        assert theirs.headers[name] == absent.headers[name], name


def test_other_tenant_home_is_404_like_missing(sessions) -> None:
    client, _token = sessions["xa-manager"]
    theirs = probed(client.get(f"/t/{OTHER}/"))
    missing = client.get(f"/t/{MISSING_SLUG}/")
    assert theirs.status_code == 404
    assert missing.status_code == 404
    assert normalized(theirs, f"/t/{OTHER}/") == normalized(missing, f"/t/{MISSING_SLUG}/")


# --- positive controls: the same values do reach xb for the people entitled to it --------


def test_xb_manager_sees_canary(sessions) -> None:
    client, _token = sessions["xb-manager"]
    for path in (f"/t/{OTHER}/", f"/t/{OTHER}/staff"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert CANARY in response.text, path


@pytest.mark.parametrize(
    "ep",
    [e for e in ENDPOINTS if e.path.startswith("/t/{slug}") and "GET" in e.methods],
    ids=lambda e: e.path,
)
def test_registry_values_are_real(ep: Endpoint, world, sessions) -> None:
    """xb's own manager opens every tenant page with the REGISTRY values (so 404s mean something)."""
    slug, user = next(
        (v for prefix, v in POSITIVE.items() if ep.path.startswith(prefix)), (OTHER, "xb-manager")
    )
    if user not in sessions:
        sessions[user] = signed_in(user)
    client, _token = sessions[user]
    url = ep.url({**{name: value(ep, name, world) for name in ep.params}, "slug": slug})
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} as {user}: {response.status_code}"
    assert CANARY in body_text(response), url


def test_division_supervisor_reads_subtree_but_cannot_change_staff(world, sessions) -> None:
    client, token = sessions["d4-liuhong"]
    home = client.get(f"/t/{OTHER}/")
    assert home.status_code == 200
    assert CANARY in home.text
    member = world.member_ids[f"{OTHER}/xb-clerk"]
    attempts = [
        (f"/t/{OTHER}/staff", plausible_form(token)),
        (f"/t/{OTHER}/staff/{member}", plausible_form(token, roles="manager")),
        *(
            (f"/t/{OTHER}/staff/{member}/{action}", plausible_form(token))
            for action in ("deactivate", "activate", "reset-link")
        ),
    ]
    for url, body in attempts:
        response = client.post(url, data=body)
        assert response.status_code in (403, 404), (
            f"POST {url} as d4-liuhong: {response.status_code}"
        )
    # Nothing changed: xb's staff page still lists the clerk, active, with no new member.
    staff = sessions["xb-manager"][0].get(f"/t/{OTHER}/staff")
    assert "probe-user" not in staff.text
    assert "CANARYB-乙窗口" in staff.text
