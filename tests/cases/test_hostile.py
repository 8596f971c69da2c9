"""Hostile input on the case desk (issue 5): "Bad input gets a clear message in the form, the
user's input kept, and no 500; nothing half-written is left in the database."

1. Every GET route of the desk (cases, seals, rectifications, track — read from the app's own
   route list) as r63's manager, a clerk and an anonymous visitor, with hostile values on every
   query parameter the views read: never a 5xx, and ``<script>`` never comes back unescaped.
2. Every POST route with a valid CSRF token and hostile bodies: never a 5xx, a refusal answers
   422 (or 403/404/409/429 where that is the designed answer), and a refused request leaves the
   row counts of the case tables exactly as they were.
3. A registration refused for its ID number keeps what was typed.

The module's finaliser prints how many hostile requests were sent and how many answered 5xx.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from app import db
from app.accounts import queries as accounts
from app.cases import actions, ledger
from app.cases.queries import core
from app.cases.tables import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseFile,
    CaseMaterial,
    Rating,
    Rectification,
    Seal,
    SealUsage,
)
from app.storage.tables import StoredFile
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests import reliability
from tests.cases.helpers import (
    DIBAO,
    DISABILITY,
    MARRIAGE,
    RESIDENT_ID,
    actor_of,
    ensure_adopted,
    ensure_seal,
    register,
    run,
    scope_of,
)
from tests.cases.test_tracking import token_of, unique_address
from tests.security.harness import app_endpoints
from tests.storage.conftest import pdf_bytes, png_bytes

SLUG = "r63"
MANAGER, CLERK = "r63-zhoujianguo", "r63-guzailinuer"
PREFIXES = ("/t/{slug}/cases", "/t/{slug}/seals", "/t/{slug}/rectifications", "/t/{slug}/track")
SCRIPT = "<script>alert('hostile')</script>"
LEAK = "<script>alert("  # what must never come back unescaped
LONG = "長" * 5000
DIGITS = "9" * 5000  # more digits than int() accepts (Python's 4300-digit limit)

# The query parameters each GET view reads (list_routes/lists, desk_routes, case_routes,
# print_routes, public_routes, ledger_routes, seal_routes/seal_forms).
GET_PARAMS: dict[str, tuple[str, ...]] = {
    "/t/{slug}/cases": (
        "tab",
        "state",
        "item",
        "kind",
        "light",
        "due",
        "urgent",
        "paused",
        "centre",
        "q",
        "idh",
        "page",
    ),
    "/t/{slug}/cases/new": ("item", "q"),
    "/t/{slug}/cases/handover": ("from_user",),
    "/t/{slug}/cases/{case_id:int}": ("done",),
    "/t/{slug}/cases/{case_id:int}/files/{file_id:int}": (),
    "/t/{slug}/cases/{case_id:int}/receipt": ("paper",),
    "/t/{slug}/cases/{case_id:int}/documents/{document_id:int}": ("paper",),
    "/t/{slug}/track": ("number", "code"),
    "/t/{slug}/track/rate": (),
    "/t/{slug}/rectifications": ("state", "source", "overdue", "centre", "page"),
    "/t/{slug}/rectifications/{rectification_id:int}": ("done",),
    "/t/{slug}/rectifications/overview": (),
    "/t/{slug}/rectifications/{rectification_id:int}/evidence/{evidence_id:int}": (),
    "/t/{slug}/seals": ("seal", "from", "to", "centre", "page", "done"),
    "/t/{slug}/seals/export.xlsx": ("seal", "from", "to", "centre", "page"),
}

# Hostile values by what the parameter holds (each parameter gets its kind's values).
EVERY = (SCRIPT, "\x00")
VALUES: dict[str, tuple[str, ...]] = {
    "number": (*EVERY, DIGITS, "²", "-1", "99999999999999999999", "１２"),
    "date": (*EVERY, "2026-13-45", "0001-01-01", "9999-12-31", "２０２６-０１-０１"),
    "text": (*EVERY, LONG, "../../../etc/passwd", "😀\u202e"),
    "choice": (SCRIPT,),  # a value from a fixed list (tab, state, paper …): an unknown one
}
KIND = {
    "page": "number",
    "from_user": "number",
    "seal": "number",
    "from": "date",
    "to": "date",
    "q": "text",
    "item": "text",
    "idh": "text",
    "number": "text",
    "code": "text",
}
# Every parameter of a route at once (query strings stay under the client's 64 KiB limit).
# The anonymous walk (cheap: most answers are the way to the login page) tries all of them;
# the clerk's a few; the manager's also tries each parameter alone with its kind's values.
AT_ONCE = ("A" * 5000, SCRIPT, "\x00", "", "../../../etc/passwd", "²", "-1", "9999-12-31")
AT_ONCE_BY: dict[str, tuple[str, ...]] = {
    "anonymous": AT_ONCE,
    CLERK: ("A" * 5000, SCRIPT, "\x00", "²"),
    MANAGER: ("A" * 5000, ""),
}


# --- counting every hostile request ------------------------------------------------------------

STATS = {"requests": 0, "5xx": 0}


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[None]:
    yield
    print(
        f"\nhostile input: {STATS['requests']} hostile requests, {STATS['5xx']} answered 5xx",
        flush=True,
    )
    assert STATS["5xx"] == 0, STATS


TABLES = (
    Case,
    CaseEvent,
    CaseDocument,
    CaseFile,
    CaseMaterial,
    SealUsage,
    Seal,
    Rating,
    Rectification,
    StoredFile,
)


_SCOPE: list[Any] = []


async def _counts() -> dict[str, int]:
    """Rows of every case table, in one statement (read as the system)."""
    if not _SCOPE:
        _SCOPE.append(system_scope(await tenancy.tree(), reason="tests: hostile counts"))
    names = [t._meta.tablename for t in TABLES]
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {n}) AS {n}" for n in names)
    async with db.read(_SCOPE[0]):
        rows = await Case.raw(sql)
    return {n: int(rows[0][n]) for n in names}


def counts() -> dict[str, int]:
    return dict(run(_counts()))


class Probe:
    """Sends hostile requests through one client; collects every problem to report at once."""

    def __init__(self, client: TestClient, who: str) -> None:
        self.client = client
        self.who = who
        self.problems: list[str] = []
        self.sent = 0
        self.known: dict[str, int] | None = None  # the counts after the last refused POST

    def send(self, method: str, url: str, label: str, **kwargs: Any) -> Any:
        if method != "GET":
            self.known = None
        STATS["requests"] += 1
        self.sent += 1
        if "/track" in url:  # the lookup limits count per address: a fresh one each time
            self.client._transport.client = (unique_address(), 50000)  # type: ignore[attr-defined]
        try:
            response = reliability.hostile(self.client.request, method, url, **kwargs)
        except Exception as exc:  # the test client re-raises what would have been a 500
            STATS["5xx"] += 1
            self.problems.append(
                f"[{self.who}] {method} {url} {label}: 500 {type(exc).__name__}: {str(exc)[:300]}"
            )
            return None
        if response.status_code >= 500:
            STATS["5xx"] += 1
            self.problems.append(f"[{self.who}] {method} {url} {label}: {response.status_code}")
        kind = response.headers.get("content-type", "")
        if kind.startswith("text/") and LEAK in response.text:
            self.problems.append(f"[{self.who}] {method} {url} {label}: <script> unescaped")
        return response

    def get(self, url: str, params: list[tuple[str, str]], label: str, **kwargs: Any) -> Any:
        response = self.send("GET", url, label, params=params, **kwargs)
        if response is not None and not 200 <= response.status_code < 500:
            self.problems.append(f"[{self.who}] GET {url} {label}: {response.status_code}")
        return response

    def refused(
        self,
        url: str,
        data: dict[str, Any],
        label: str,
        expect: tuple[int, ...] = (422,),
        files: Any = None,
    ) -> Any:
        """POST a body that must be refused: the status is one of ``expect`` and no row of the
        case tables appeared, changed count or vanished."""
        before = self.known or counts()
        self.known = None
        response = self.send("POST", url, label, data=data, files=files)
        if response is None:
            return None
        if response.status_code not in expect:
            self.problems.append(
                f"[{self.who}] POST {url} {label}: {response.status_code}, expected {expect}"
            )
        if 400 <= response.status_code < 500:
            after = counts()
            if after != before:
                changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                self.problems.append(f"[{self.who}] POST {url} {label}: left rows {changed}")
            self.known = after
        return response

    def check(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


# --- the objects the routes need ----------------------------------------------------------------


@dataclass(frozen=True)
class World:
    supplement: dict[str, Any]  # waiting for materials (one-time notice issued)
    review: dict[str, Any]  # accepted, under review (a receipt exists)
    decision: dict[str, Any]  # waiting for the decision
    joint: dict[str, Any]  # a joint item under review (sign-off)
    concluded: dict[str, Any]  # immediate item, concluded at intake (may be rated)
    document_id: int  # the notice of ``supplement``
    file_id: int  # a stored file attached to ``supplement``
    rectification_id: int
    seal_id: int
    other_seal_id: int  # another centre's seal
    clerk_id: int
    stranger_id: int  # a user who is no member of r63


async def _world() -> World:
    clerk, actor = await scope_of(CLERK, SLUG), await actor_of(CLERK)
    boss, boss_actor = await scope_of(MANAGER, SLUG), await actor_of(MANAGER)
    supplement = await register(CLERK, SLUG, DIBAO, missing=(0,), name="补正申请人")
    review = await register(CLERK, SLUG, DIBAO, name="审查申请人")
    await actions.start_review(clerk, review["id"], actor)
    decision = await register(CLERK, SLUG, DIBAO, name="决定申请人")
    await actions.start_review(clerk, decision["id"], actor)
    await actions.submit(clerk, decision["id"], actor)
    await ensure_adopted(SLUG, DISABILITY)
    joint = await register(CLERK, SLUG, DISABILITY, name="联办申请人")
    await actions.start_review(clerk, joint["id"], actor)
    concluded = await register(CLERK, SLUG, MARRIAGE, name="办结申请人")
    seal_id = await ensure_seal(SLUG)
    other_seal_id = await ensure_seal("xa")
    docs = await core.documents(clerk, supplement["id"])
    assert docs, "a case registered with a missing material has its one-time notice"

    tree = await tenancy.tree()
    tenant_id = tree.by_slug[SLUG].id
    system = system_scope(tree, reason="tests: hostile world")
    from app.storage import services as storage

    stored = await storage.store_bytes(
        system, pdf_bytes("hostile"), domain="cases", filename="申请书.pdf", tenant_id=tenant_id
    )
    async with db.write(system):
        await CaseFile.insert(
            CaseFile(
                tenant=tenant_id,
                case=supplement["id"],
                file=stored.id,
                uploaded_by=actor.id,
                uploaded_at=datetime.now(UTC),
            )
        )
    owners = await ledger.managers(boss, tenant_id)
    due = await ledger.due_in(boss, tenant_id, datetime.now(UTC), ledger.DUE_HALVES)
    async with db.write(boss):
        rectification_id = await ledger.open_item(
            boss,
            tenant_id,
            "rating",  # the four-step flow (finding items are answered with evidence)
            None,
            None,
            "窗口整改 hostile",
            "检查发现",
            owners[0]["user_id"],
            due,
        )
    clerk_user = await accounts.user_by_username(CLERK)
    stranger = await accounts.user_by_username("xa-manager")
    assert clerk_user is not None and stranger is not None
    assert boss_actor.id != clerk_user["id"]
    return World(
        supplement=await core.case(clerk, supplement["id"]) or supplement,
        review=await core.case(clerk, review["id"]) or review,
        decision=await core.case(clerk, decision["id"]) or decision,
        joint=await core.case(clerk, joint["id"]) or joint,
        concluded=concluded,
        document_id=docs[0]["id"],
        file_id=stored.id,
        rectification_id=rectification_id,
        seal_id=seal_id,
        other_seal_id=other_seal_id,
        clerk_id=clerk_user["id"],
        stranger_id=stranger["id"],
    )


@pytest.fixture(scope="module")
def world() -> World:
    w: World = run(_world())
    assert w.supplement["state"] == "supplement" and w.review["state"] == "review"
    assert w.decision["state"] == "decision" and w.joint["state"] == "review"
    assert w.concluded["state"] == "concluded"
    return w


# --- 1. every GET route with hostile query strings ----------------------------------------------


@functools.cache
def desk_get_routes() -> list[Any]:
    """The desk's GET routes, read from the app (building it takes most of a second)."""
    return [
        e
        for e in app_endpoints()
        if "GET" in e.methods and any(e.path.startswith(p) for p in PREFIXES)
    ]


def test_every_desk_get_route_has_its_parameters_listed() -> None:
    """A new GET route of the desk must say here which query parameters it reads."""
    assert {e.path for e in desk_get_routes()} == set(GET_PARAMS)


def _path_values(path: str, w: World) -> dict[str, str]:
    case = w.review if path.endswith("/receipt") else w.supplement
    return {
        "slug": SLUG,
        "case_id": str(case["id"]),
        "file_id": str(w.file_id),
        "document_id": str(w.document_id),
        "rectification_id": str(w.rectification_id),
        "evidence_id": "1",
    }


HTMX_TARGETS = {"/t/{slug}/cases": "case-rows", "/t/{slug}/cases/new": "item-picker"}


def _walk(probe: Probe, w: World, who: str) -> None:
    for endpoint in desk_get_routes():
        names = GET_PARAMS[endpoint.path]
        url = endpoint.url(_path_values(endpoint.path, w))
        # Every parameter at once (plus one the view never reads), repeated, through htmx.
        for value in AT_ONCE_BY[who]:
            probe.get(url, [(n, value) for n in (*names, "zz<b>")], f"all={value[:20]!r}")
        repeated = [(n, v) for n in names for v in (SCRIPT, "-5", "x" * 1000, "")]
        probe.get(url, repeated, "repeated")
        target = HTMX_TARGETS.get(endpoint.path, "content")
        headers = {"HX-Request": "true", "HX-Target": target}
        probe.get(url, [(n, SCRIPT) for n in names], f"htmx {target}", headers=headers)
        if who != MANAGER:
            continue
        # Each parameter alone with the hostile values of its kind.
        for name in names:
            for value in VALUES[KIND.get(name, "choice")]:
                probe.get(url, [(name, value)], f"{name}={value[:20]!r}")
        # The path ids past int32 (and a case id of zero).
        for name in endpoint.params:
            for bad in {"case_id": ("0", "99999999999999999999")}.get(name, ("2147483648",)):
                if name != "slug":
                    values = {**_path_values(endpoint.path, w), name: bad}
                    probe.get(endpoint.url(values), [], f"{name}={bad}")


@pytest.mark.parametrize("who", [MANAGER, CLERK, "anonymous"])
def test_get_routes_survive_hostile_query_strings(client, as_user, world, who) -> None:  # type: ignore[no-untyped-def]
    if who != "anonymous":
        as_user(who)
    probe = Probe(client, who)
    _walk(probe, world, who)
    probe.check()


# --- 2. every POST route with hostile bodies ----------------------------------------------------


def registration(token: str, **changes: Any) -> dict[str, Any]:
    """A complete registration for 低保 (every material received)."""
    item = run(ensure_adopted(SLUG, DIBAO))
    data: dict[str, Any] = {
        "csrf_token": token,
        "item_code": DIBAO,
        "applicant_kind": "person",
        "applicant_name": "李四",
        "id_number": RESIDENT_ID,
        "phone": "13912345678",
        "contact_address": "六十三团一连",
        "channel": "window",
        "supplement_days": "5",
        "note": "",
    }
    for pos, material in enumerate(item["content"]["materials"]):
        conditional = material.get("requirement") == "conditional"
        data[f"m{pos}_status"] = "waived" if conditional else "received"
    data.update(changes)
    return data


BAD_ID = "123456789012345678"  # wrong check digit
# Not numbers, or out of every range ("１２" would be 12: full-width digits are numbers).
NUMBERS = ("0", "-5", "²", DIGITS, "abc", "９９９")
HTML_AS_JPG = ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
EXE_AS_PDF = ("scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/pdf")


def test_registration_refuses_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(CLERK)
    probe = Probe(client, CLERK)
    url = f"/t/{SLUG}/cases/new"
    probe.refused(url, {"csrf_token": token}, "nothing but the token")
    for code in ("000000000000", LONG, SCRIPT, "../" + DIBAO):
        probe.refused(url, registration(token, item_code=code), f"item_code={code[:20]!r}")
    bad: list[tuple[str, dict[str, Any]]] = [
        ("no name", {"applicant_name": ""}),
        ("blank name", {"applicant_name": "   "}),
        ("long name", {"applicant_name": LONG}),
        ("no id", {"id_number": ""}),
        ("bad id", {"id_number": BAD_ID}),
        ("long id", {"id_number": LONG}),
        ("script id", {"id_number": SCRIPT}),
        ("nul id", {"id_number": RESIDENT_ID[:-1] + "\x00"}),
        ("kind", {"applicant_kind": "robot"}),
        ("kind script", {"applicant_kind": SCRIPT}),
        ("channel", {"channel": "pigeon"}),
        ("channel long", {"channel": LONG}),
        ("phone", {"phone": LONG}),
        ("address", {"contact_address": LONG}),
        ("note", {"note": LONG}),
        *((f"days {v[:12]!r}", {"supplement_days": v}) for v in (*NUMBERS, SCRIPT)),
        ("status + bad id", {"m0_status": "stolen", "id_number": BAD_ID}),
        ("problem + bad id", {"m0_status": "defective", "m0_problem": LONG, "id_number": BAD_ID}),
        ("nul everywhere + bad id", {"applicant_name": "王\x00五", "id_number": BAD_ID}),
    ]
    for label, change in bad:
        probe.refused(url, registration(token, **change), label)
    # Wrong types: a list where one value is expected, a file where text is expected.
    probe.refused(
        url,
        {**registration(token), "applicant_name": ["甲", "乙"], "id_number": [BAD_ID, "x"]},
        "lists",
    )
    probe.refused(
        url,
        registration(token, id_number=BAD_ID),
        "file in a text field",
        files={"applicant_name": ("name.txt", b"\x00\x01", "text/plain")},
    )
    # Files that are no image or PDF; and an empty one; refused, nothing stored.
    for label, upload in (
        ("html as jpg", HTML_AS_JPG),
        ("exe as pdf", EXE_AS_PDF),
        ("empty named file", ("empty.jpg", b"", "image/jpeg")),
        ("script name", (SCRIPT + ".jpg", b"<html></html>", "image/jpeg")),
    ):
        probe.refused(url, registration(token), label, files={"m0_file": upload})
    # A good file on one line and a bad one on the next: the good one is not kept either.
    probe.refused(
        url,
        registration(token),
        "good + bad file",
        files=[("m0_file", ("ok.png", png_bytes(), "image/png")), ("m1_file", HTML_AS_JPG)],
    )
    # A 0-byte part without a name is "no file chosen": ignored (the bad ID refuses).
    probe.refused(
        url,
        registration(token, id_number=BAD_ID),
        "0-byte nameless part",
        files={"m0_file": ("", b"", "application/octet-stream")},
    )
    probe.check()


def test_registration_with_a_bad_id_keeps_what_was_typed(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(CLERK)
    probe = Probe(client, CLERK)
    name, phone = "王小明<b>", "13800138000"
    response = probe.refused(
        f"/t/{SLUG}/cases/new",
        registration(token, applicant_name=name, phone=phone, id_number=BAD_ID),
        "bad id keeps input",
    )
    probe.check()
    assert str(escape(name)) in response.text and phone in response.text
    assert BAD_ID in response.text  # what was typed stays in the box to be corrected


def action_url(case: dict[str, Any], action: str) -> str:
    return f"/t/{SLUG}/cases/{case['id']}/{action}"


def fields(token: str, action: str, **values: Any) -> dict[str, Any]:
    return {"csrf_token": token, **{f"{action}-{k}": v for k, v in values.items()}}


def test_case_actions_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    w = world
    tries: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
        # the one-time notice: a second one needs its reason; days in 1..60
        (w.supplement, "notice", {}),
        (w.supplement, "notice", {"reason": LONG}),
        *((w.supplement, "notice", {"reason": "新情况", "supplement_days": v}) for v in NUMBERS),
        # accepting with a material still missing; refusing without (or with too long) a reason
        (w.supplement, "accept", {"note": "ok"}),
        (w.supplement, "accept", {"note": LONG}),
        (w.supplement, "refuse", {}),
        (w.supplement, "refuse", {"reason": "   "}),
        (w.supplement, "refuse", {"reason": LONG}),
        # actions from the wrong state
        (w.supplement, "review", {}),
        (w.supplement, "submit", {}),
        (w.supplement, "decide", {"decision": "approved", "seal": str(w.seal_id)}),
        (w.supplement, "deliver", {"method": "window", "recipient": "x"}),
        (w.review, "accept", {}),
        (w.concluded, "pause", {"reason": "hearing", "note": "x"}),
        # sign-off: no such department, hostile ones
        (w.review, "sign", {"department": "cl"}),  # not a joint item
        *(
            (w.joint, "sign", {"department": d})
            for d in ("", "no-such-dept", SCRIPT, LONG, "\x00", "../cl")
        ),
        (w.joint, "sign", {"department": "cl", "note": LONG}),
        (w.review, "submit", {"note": LONG}),
        # return needs a reason
        (w.review, "return", {}),
        (w.review, "return", {"reason": LONG}),
        # pause: a known reason and a description
        (w.review, "pause", {"reason": "nap", "note": "x"}),
        (w.review, "pause", {"reason": SCRIPT, "note": "x"}),
        (w.review, "pause", {"reason": "hearing"}),
        (w.review, "pause", {"reason": "hearing", "note": LONG}),
        (w.review, "resume", {}),  # not paused
        # extension: 1..cap working days, with a reason
        *(
            (w.review, "extend", {"days": v, "reason": "复杂"})
            for v in (*NUMBERS, "61", "99999999999999")
        ),
        (w.review, "extend", {"days": "5"}),
        (w.review, "extend", {"days": "5", "reason": LONG}),
        # decision: a known decision, an active seal of this centre, a reason for a denial
        *(
            (w.decision, "decide", {"decision": "approved", "seal": s})
            for s in (
                "",
                "0",
                "-1",
                "²",
                "１",
                "99999999999",
                DIGITS,
                SCRIPT,
                str(w.other_seal_id),
            )
        ),
        (w.decision, "decide", {"decision": "maybe", "seal": str(w.seal_id)}),
        (w.decision, "decide", {"decision": SCRIPT, "seal": str(w.seal_id)}),
        (w.decision, "decide", {"decision": "denied", "seal": str(w.seal_id)}),
        (w.decision, "decide", {"decision": "denied", "seal": str(w.seal_id), "reason": LONG}),
        # delivery: method, a real past date after the conclusion, a recipient
        (w.concluded, "deliver", {"method": "drone", "recipient": "本人"}),
        (w.concluded, "deliver", {"method": SCRIPT, "recipient": "本人"}),
        *(
            (w.concluded, "deliver", {"method": "window", "recipient": "本人", "delivered_on": d})
            for d in (
                "",
                "2026-13-45",
                "0000-00-00",
                "9999-12-31",
                "2000-01-01",
                LONG,
                "２０２６-０１-０１",
            )
        ),
        (w.concluded, "deliver", {"method": "window"}),
        (w.concluded, "deliver", {"method": "window", "recipient": LONG}),
    ]
    for case, action, values in tries:
        label = f"{values!r}"[:80]
        probe.refused(action_url(case, action), fields(token, action, **values), label)
    # Materials: files that are no image or PDF, an empty one.
    for label, upload in (
        ("html as jpg", HTML_AS_JPG),
        ("exe as pdf", EXE_AS_PDF),
        ("empty named file", ("empty.jpg", b"", "image/jpeg")),
    ):
        probe.refused(
            action_url(w.supplement, "supplement"),
            {"csrf_token": token, "m0_status": "received"},
            label,
            files={"m0_file": upload},
        )
    probe.refused(
        action_url(w.review, "supplement"), {"csrf_token": token}, "supplement from review"
    )
    # No such case (or past int32): 404.
    for action in ("supplement", "decide", "flags", "unmask"):
        for bad in ("999999", "99999999999999999999"):
            probe.refused(
                f"/t/{SLUG}/cases/{bad}/{action}", {"csrf_token": token}, bad, expect=(404,)
            )
    probe.check()


def test_case_actions_accepting_odd_values_do_not_fail(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    """Values that look hostile but are acceptable (a flag box says "<script>", a NUL in a
    name or a note — PostgreSQL cannot store one —, a material status nobody knows): taken,
    or refused with 422, never a 5xx."""
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    w = world
    for url, data in (
        (action_url(w.review, "flags"), {"flags-urgent": SCRIPT, "flags-green_channel": "x"}),
        (action_url(w.review, "flags"), {"flags-urgent": ""}),
        (
            action_url(w.supplement, "supplement"),
            {"m0_status": "stolen", "m1_status": SCRIPT, "m0_problem": LONG},
        ),
        (
            action_url(w.supplement, "supplement"),
            {"m0_status": "defective", "m0_problem": "缺页\x00" + SCRIPT},
        ),
        (action_url(w.review, "pause"), {"pause-reason": "expert", "pause-note": "专家\x00评审"}),
        (
            f"/t/{SLUG}/cases/new",
            registration(
                token,
                applicant_name="王\x00五",
                contact_address="\x00一连",
                note="备注\x00" + SCRIPT,
                phone="139\x0012345678",
            ),
        ),
    ):
        response = probe.send("POST", url, "odd but acceptable", data={"csrf_token": token, **data})
        if response is not None and response.status_code not in (200, 303, 422):
            probe.problems.append(f"{url}: {response.status_code}")
    probe.check()


def test_clerk_gets_403_not_500_on_manager_actions(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(CLERK)
    probe = Probe(client, CLERK)
    w = world
    probe.refused(action_url(w.supplement, "unmask"), {"csrf_token": token}, "unmask", (403,))
    probe.refused(
        f"/t/{SLUG}/cases/handover", {"csrf_token": token, "from_user": "1"}, "handover", (403,)
    )
    probe.refused(f"/t/{SLUG}/seals", {"csrf_token": token, "name": SCRIPT}, "seal", (403,))
    probe.refused(f"/t/{SLUG}/seals/{w.seal_id}/retire", {"csrf_token": token}, "retire", (403,))
    probe.refused(
        f"/t/{SLUG}/rectifications/{w.rectification_id}",
        {"csrf_token": token, "step": "verify", "note": "x"},
        "rectification",
        (403,),
    )
    probe.check()


def test_handover_refuses_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/{SLUG}/cases/handover"
    clerk = str(world.clerk_id)
    ids = ("", "abc", "²", "１", "-1", "0", "99999999999", DIGITS, SCRIPT, str(world.stranger_id))
    for value in ids:
        probe.refused(
            url, {"csrf_token": token, "from_user": value, "all": "1"}, f"from {value[:12]!r}"
        )
        probe.refused(
            url,
            {"csrf_token": token, "from_user": clerk, "to_user": value, "all": "1"},
            f"to {value[:12]!r}",
        )
        probe.refused(
            url,
            {"csrf_token": token, "from_user": clerk, "to_user": clerk, "case": value},
            f"case {value[:12]!r}",
        )
    probe.refused(
        url, {"csrf_token": token, "from_user": clerk, "to_user": clerk, "all": "1"}, "self"
    )
    probe.refused(
        url,
        {"csrf_token": token, "from_user": clerk, "case": str(world.review["id"]), "note": LONG},
        "no recipient",
    )
    probe.check()


def test_seals_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/{SLUG}/seals"
    seal = run(_seal_name(world.seal_id))
    for label, data in (
        ("nothing", {}),
        ("blank", {"name": "   "}),
        ("nul", {"name": "\x00"}),
        ("long", {"name": LONG}),
        ("long keeper", {"name": "新章", "keeper": LONG}),
        ("same name", {"name": seal}),
        ("lists", {"name": ["", ""]}),
    ):
        probe.refused(url, {"csrf_token": token, **data}, label)
    for action in ("retire", "reactivate"):
        for bad in ("999999", "2147483648", "99999999999999999999", str(world.other_seal_id)):
            probe.refused(f"{url}/{bad}/{action}", {"csrf_token": token}, f"{action} {bad}", (404,))
    probe.check()


async def _seal_name(seal_id: int) -> str:
    scope = system_scope(await tenancy.tree(), reason="tests: hostile")
    async with db.read(scope):
        rows = await Seal.select(Seal.name).where(Seal.id == seal_id)
    return str(rows[0]["name"])


def test_rectification_steps_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/{SLUG}/rectifications/{world.rectification_id}"
    for step in ("", "bogus", SCRIPT, LONG, "verify\x00"):
        probe.refused(
            url, {"csrf_token": token, "step": step, "note": "x"}, f"step {step[:12]!r}", (404,)
        )
    for label, data in (
        ("no note", {"step": "verify"}),
        ("long note", {"step": "verify", "note": LONG}),
        ("out of order", {"step": "outcome", "note": "x", "outcome": "resolved"}),
        ("bad outcome", {"step": "outcome", "note": "x", "outcome": SCRIPT}),
        ("skip", {"step": "callback", "note": "x"}),
        *(
            (f"extend {v[:12]!r}", {"step": "extend", "days": v, "reason": "忙"})
            for v in (*NUMBERS, "21")
        ),
        ("extend no reason", {"step": "extend", "days": "3"}),
        ("extend long reason", {"step": "extend", "days": "3", "reason": LONG}),
    ):
        probe.refused(url, {"csrf_token": token, **data}, label)
    for bad in ("999999", "2147483648", "99999999999999999999"):
        probe.refused(
            f"/t/{SLUG}/rectifications/{bad}",
            {"csrf_token": token, "step": "verify", "note": "x"},
            bad,
            (404,),
        )
    # The first step with a NUL in its note: taken without it (never a 500).
    response = probe.send(
        "POST", url, "nul note", data={"csrf_token": token, "step": "verify", "note": "核实\x00"}
    )
    if response is not None and response.status_code != 303:
        probe.problems.append(f"step with a NUL: {response.status_code}")
    probe.check()


def test_public_lookup_and_rating_refuse_hostile_bodies(client, world) -> None:  # type: ignore[no-untyped-def]
    client._transport.client = (unique_address(), 50000)
    token = token_of(client, SLUG)
    probe = Probe(client, "anonymous")
    done, open_case = world.concluded, world.review
    track, rate = f"/t/{SLUG}/track", f"/t/{SLUG}/track/rate"
    # The lookup: missing, long, hostile numbers and codes (not found: 422; over the limit: 429).
    for number, code in (
        ("", ""),
        (LONG, "123456"),
        (done["number"], LONG),
        (SCRIPT, SCRIPT),
        ("\x00", "\x00"),
        (done["number"] + "\x00", "12345\x00"),
        ("../../etc/passwd", "１２３４５６"),
        (["a", "b"], ["1", "2"]),
    ):
        probe.refused(
            track,
            {"csrf_token": token, "number": number, "code": code},
            f"lookup {str(number)[:12]!r}",
            (422, 429),
        )
    # The rating, with the right number and code: a level 1..5, reasons for a low one.
    right = {"csrf_token": token, "number": done["number"], "code": done["lookup_code"]}
    for label, data in (
        *((f"level {v[:12]!r}", {"level": v}) for v in (*NUMBERS, "6", SCRIPT)),
        ("low without reason", {"level": "1"}),
        ("low unknown reason", {"level": "1", "reasons": ["bogus", SCRIPT]}),
        ("other without comment", {"level": "2", "reasons": "other"}),
        ("long comment", {"level": "5", "comment": LONG}),
        ("bad channel + level", {"level": "9", "channel": SCRIPT}),
    ):
        probe.refused(rate, {**right, **data}, label)
    # Someone else's number or a wrong code: the one not-found answer; an open case: 409.
    for label, data in (
        ("no code", {"number": done["number"], "code": "", "level": "5"}),
        ("no number", {"number": "", "code": done["lookup_code"], "level": "5"}),
        ("unknown number", {"number": "R63-1999-000001", "code": "123456", "level": "5"}),
        ("hostile number", {"number": SCRIPT, "code": LONG, "level": "5"}),
        ("nul", {"number": "\x00", "code": "\x00", "level": "5"}),
    ):
        probe.refused(rate, {"csrf_token": token, **data}, label, (422, 429))
    probe.refused(
        rate,
        {
            "csrf_token": token,
            "number": open_case["number"],
            "code": open_case["lookup_code"],
            "level": "5",
        },
        "open case",
        (409,),
    )
    # A NUL in the comment of an acceptable rating: taken without it (never a 500).
    response = probe.send(
        "POST", rate, "nul comment", data={**right, "level": "4", "comment": "好\x00"}
    )
    if response is not None and response.status_code != 200:
        probe.problems.append(f"rating with a NUL: {response.status_code}")
    probe.check()


def test_unknown_ids_everywhere_answer_404_not_500(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    """A secret number looks like a missing one, however it is written."""
    as_user(MANAGER)
    probe = Probe(client, MANAGER)
    for path in (
        f"/t/{SLUG}/cases/{world.supplement['id']}/files/{world.document_id + 10**9}",
        f"/t/{SLUG}/cases/{world.supplement['id']}/documents/2147483647",
        f"/t/{SLUG}/cases/{world.review['id']}/documents/{world.document_id}",
        f"/t/{SLUG}/cases/{world.supplement['id']}/receipt",  # never accepted
        f"/t/{SLUG}/cases/-1",
        f"/t/{SLUG}/cases/%00",
        f"/t/{SLUG}/cases/..%2f..%2fadmin",
        f"/t/{SLUG}/seals/export.xlsx/../../admin",
    ):
        response = probe.get(path, [], "unknown")
        if response is not None and response.status_code not in (404, 405):
            probe.problems.append(f"{path}: {response.status_code}")
    probe.check()
