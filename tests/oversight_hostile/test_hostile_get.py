"""Hostile input on issue 7's GET routes (督促检查, 整改, 通报, 制度汇编, 工作日志, 绩效考核,
电子监察): every GET route of the new areas (read from the app's own route list) as d4's
supervisor at d4, r63's manager at r63, xa's manager and xa's clerk at xa, with hostile
values on every query parameter the view reads and on every path value — never a 5xx, and
``<script>`` never comes back unescaped.  The module's finaliser prints how many hostile
requests were sent and how many answered 5xx."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests import reliability
from tests.oversight_hostile.probe import (
    CLERK,
    DIGITS,
    HUGE,
    MANAGER,
    PATH_IDS,
    SCRIPT,
    SUPERVISOR,
    Probe,
    World,
    summary,  # noqa: F401  (prints the count of hostile requests at the end)
    world_fixture,  # noqa: F401  (the ``world`` fixture)
)
from tests.security.harness import app_endpoints

# The query parameters each GET view reads.
GET_PARAMS: dict[str, tuple[str, ...]] = {
    "/t/{slug}/inspections": ("centre", "state", "month", "page"),
    "/t/{slug}/inspections/new": ("centre", "draw", "on"),
    "/t/{slug}/inspections/{inspection_id:int}": ("rows", "done"),
    "/t/{slug}/inspections/{inspection_id:int}/fill/{section:int}": ("saved",),
    "/t/{slug}/inspections/{inspection_id:int}/photos/{photo_id:int}": (),
    "/t/{slug}/checklists": (),
    "/t/{slug}/checklists/new": (),
    "/t/{slug}/checklists/{checklist_id}": ("v", "done"),
    "/t/{slug}/checklists/{checklist_id}/edit": (),
    "/t/{slug}/draws": (),
    "/t/{slug}/draws/{draw_id}": ("verify",),
    "/t/{slug}/rectifications/overview": (),
    "/t/{slug}/rectifications/{rectification_id:int}/evidence/{evidence_id:int}": (),
    "/t/{slug}/circulars": ("page",),
    "/t/{slug}/circulars/new": ("link",),
    "/t/{slug}/circulars/{circular_id}": ("done",),
    "/t/{slug}/circulars/{circular_id}/files/{attachment_id}": (),
    "/t/{slug}/documents": ("done",),
    "/t/{slug}/documents/new": ("kind",),
    "/t/{slug}/documents/gaps": (),
    "/t/{slug}/documents/{doc_id}": ("done",),
    "/t/{slug}/documents/{doc_id}/file": (),
    "/t/{slug}/worklogs": ("month",),
    "/t/{slug}/worklogs/new": ("window", "day"),
    "/t/{slug}/worklogs/summary": ("period",),
    "/t/{slug}/worklogs/{log_id}": ("done",),
    "/t/{slug}/assessment": ("month",),
    "/t/{slug}/assessment/rules": ("done",),
    "/t/{slug}/assessment/centres/{centre}": ("month",),
    "/t/{slug}/supervision": ("month",),
    "/t/{slug}/supervision/centres/{centre}": ("month",),
    "/t/{slug}/supervision/lights": ("colour", "centre", "page"),
    "/t/{slug}/supervision/league": ("month",),
    "/t/{slug}/supervision/settings": ("saved",),
}
PREFIXES = tuple(
    f"/t/{{slug}}/{p}"
    for p in (
        "inspections",
        "checklists",
        "draws",
        "circulars",
        "documents",
        "worklogs",
        "assessment",
        "supervision",
        "rectifications/overview",
        "rectifications/{rectification_id:int}/evidence",
    )
)

# Hostile values by what a parameter means.
KIND = {
    "month": "month",
    "period": "period",
    "day": "day",
    "on": "day",
    "page": "number",
    "rows": "number",
    "draw": "id",
    "window": "id",
    "v": "id",
    "centre": "slug",
    "colour": "choice",
    "state": "choice",
    "kind": "choice",
    "link": "link",
}
VALUES: dict[str, tuple[str, ...]] = {
    "month": ("2026-13", "0000-00", "９９９９-１２", "-1"),
    "period": ("2026-Q9", "2026-Q0", "0000-Q1", "Q1"),
    "day": ("2026-02-30", "0000-00-00", "9999-12-31", "２０２６-０１-０１"),
    "number": ("-1", HUGE, DIGITS, "²"),
    "id": ("-1", HUGE, DIGITS, "²", "abc"),
    "slug": ("xb", "nope", "R63", "x" * 5000),
    "choice": ("purple", "x" * 5000),
    "link": (
        "inspection:abc",
        f"inspection:{HUGE}",
        "inspection:²",
        "league:2026-13",
        "league:0000-00",
        "nope:1",
        ":",
    ),
}
# Sent to every parameter of a route at once.
AT_ONCE = ("x" * 5000, SCRIPT, "\x00", "１２", HUGE)

USERS = {  # who → the tenant they work at (xa stands for a centre such as r63)
    SUPERVISOR: "d4",
    MANAGER: "xa",
    CLERK: "xa",
}


def _plain(path: str) -> str:
    return path.replace(":int", "")


@functools.cache
def new_get_routes() -> list[Any]:
    return [
        e
        for e in app_endpoints()
        if "GET" in e.methods and any(e.path.startswith(p) for p in PREFIXES)
    ]


def test_every_new_get_route_has_its_parameters_listed() -> None:
    """A new GET route of issue 7 must say here which query parameters it reads."""
    assert {e.path for e in new_get_routes()} == set(GET_PARAMS)


def _path_values(slug: str, w: World) -> dict[str, str]:
    return {
        "slug": slug,
        "inspection_id": str(w.inspection),
        "photo_id": str(w.photo),
        "section": "0",
        "checklist_id": str(w.checklist),
        "draw_id": str(w.draw),
        "rectification_id": str(w.rectification),
        "evidence_id": str(w.evidence),
        "circular_id": str(w.circular),
        "attachment_id": str(w.attachment),
        "doc_id": str(w.doc),
        "log_id": str(w.log),
        "centre": "xa",
    }


BAD_PATH: dict[str, tuple[str, ...]] = {
    "section": ("-1", "99", HUGE, "²", "１"),
    "centre": ("xb", "nope", SCRIPT, "%00", "x" * 5000, "r63", "d4", "R63"),
}


def _walk(probe: Probe, w: World, who: str) -> None:
    values = _path_values(USERS[who], w)
    for endpoint in new_get_routes():
        names = GET_PARAMS[endpoint.path]
        url = endpoint.url(values)
        if endpoint.path.endswith("/fill/{section:int}"):
            url = endpoint.url({**values, "inspection_id": str(w.open_inspection)})
        # A clerk is refused most of these pages: fewer values (the refusal is the same).
        for value in AT_ONCE if who != CLERK else AT_ONCE[:3]:
            probe.get(url, [(n, value) for n in (*names, "zz<b>")], f"all={value[:20]!r}")
        repeated = [(n, v) for n in names for v in (SCRIPT, "-5", "x" * 1000, "")]
        probe.get(url, repeated, "repeated")
        headers = {"HX-Request": "true", "HX-Target": "content"}
        probe.get(url, [(n, SCRIPT) for n in names], "htmx", headers=headers)
        for name in names if who != CLERK else ():
            for value in VALUES[KIND.get(name, "choice")]:
                probe.get(url, [(name, value)], f"{name}={value[:20]!r}")
        for name in endpoint.params:
            if name == "slug":
                continue
            for bad in BAD_PATH.get(name, PATH_IDS if who != CLERK else PATH_IDS[:4]):
                probe.get(endpoint.url({**values, name: bad}), [], f"{name}={bad[:20]!r}")


@pytest.mark.parametrize("who", list(USERS))
def test_get_routes_survive_hostile_values(client, as_user, world, who) -> None:  # type: ignore[no-untyped-def]
    as_user(who)
    probe = Probe(client, who)
    _walk(probe, world, who)
    probe.check()


def test_every_int_path_value_uses_the_bounded_convertor(app) -> None:  # type: ignore[no-untyped-def]
    """Starlette's own ``{name:int}`` raised ValueError (a 500) on more than 4300 digits."""
    from starlette.convertors import IntegerConvertor
    from starlette.routing import Mount, Route

    from app.web.convertors import BoundedIntegerConvertor

    def routes(items: list[Any]) -> list[Route]:
        out: list[Route] = []
        for r in items:
            out += routes(list(r.routes)) if isinstance(r, Mount) else [r]
        return [r for r in out if isinstance(r, Route)]

    found = [
        (r.path, type(c))
        for r in routes(list(app.routes))
        for c in r.param_convertors.values()
        if isinstance(c, IntegerConvertor)
    ]
    assert found and all(kind is BoundedIntegerConvertor for _path, kind in found), found


@pytest.mark.parametrize(
    "path", ["inspections/{n}", "inspections/1/photos/{n}", "cases/{n}", "rectifications/{n}"]
)
def test_a_path_id_of_5000_digits_is_a_404(client, as_user, path) -> None:  # type: ignore[no-untyped-def]
    as_user(MANAGER)
    for number in (DIGITS, HUGE):
        url = f"/t/xa/{path.format(n=number)}"
        assert reliability.hostile(client.get, url).status_code == 404
