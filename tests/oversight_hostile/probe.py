"""The probe of issue 7's hostile-input tests (test_hostile_get.py, test_hostile_post.py):
hostile values, a client wrapper that counts every request and 5xx and checks that a refused
POST leaves the row counts of the oversight tables as they were, and the objects the routes
need (made through the real services, at the fixture centre xa under d4)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.datastructures import Headers, UploadFile
from starlette.testclient import TestClient

from app import db
from app.calendar import services as calendar
from app.cases import ledger, ledger_evidence
from app.cases.queries import ledger_flow
from app.cases.tables import Rectification, RectificationEvidence, RectificationStep
from app.circulars import queries as circular_queries
from app.circulars import services as circulars
from app.circulars.tables import Circular, CircularAttachment, CircularRecipient
from app.documents import services as documents
from app.documents.tables import Document
from app.inspections.queries import draws as draw_queries
from app.inspections.tables import (
    Checklist,
    ChecklistVersion,
    Draw,
    Finding,
    Inspection,
    InspectionPhoto,
)
from app.staff import worklog
from app.staff.tables import AssessmentScheme, WorkLog
from app.storage.tables import StoredFile
from app.supervision.tables import SupervisionSetting
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests import reliability
from tests.cases.helpers import DIBAO, register, run, scope_of
from tests.inspections import helpers as inspections
from tests.staff.helpers import make_log, new_window

SUPERVISOR, MANAGER, CLERK = "d4-liuhong", "xa-manager", "xa-clerk"
R63_MANAGER = "r63-zhoujianguo"
SCRIPT = "<script>alert('hostile')</script>"
LEAK = "<script>alert("  # what must never come back unescaped
LONG = "長" * 100_000
HUGE = "99999999999999999999"
DIGITS = "9" * 5000  # more digits than int() accepts (Python's 4300-digit limit)
# Path values for an id: none names a row the user may see.
PATH_IDS = (DIGITS, HUGE, "²", "-1", "abc", "１２", "%00", "2147483648")
GET_OK = (200, 303, 400, 403, 404, 422)
FORM_TYPE = "application/x-www-form-urlencoded"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

STATS = {"requests": 0, "5xx": 0}


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[None]:
    yield
    print(
        f"\noversight hostile input: {STATS['requests']} hostile requests,"
        f" {STATS['5xx']} answered 5xx",
        flush=True,
    )


TABLES = (
    Checklist,
    ChecklistVersion,
    Draw,
    Inspection,
    InspectionPhoto,
    Finding,
    Rectification,
    RectificationStep,
    RectificationEvidence,
    Circular,
    CircularAttachment,
    CircularRecipient,
    Document,
    WorkLog,
    AssessmentScheme,
    SupervisionSetting,
    StoredFile,
)


async def _counts() -> dict[str, int]:
    """Rows of every table the new routes write, in one statement (read as the system)."""
    scope = system_scope(await tenancy.tree(), reason="tests: hostile counts")
    names = [t._meta.tablename for t in TABLES]
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {n}) AS {n}" for n in names)
    async with db.read(scope):
        rows = await Checklist.raw(sql)
    return {n: int(rows[0][n]) for n in names}


def counts() -> dict[str, int]:
    return dict(run(_counts()))


class Probe:
    """Sends hostile requests through one client; collects every problem to report at once."""

    def __init__(self, client: TestClient, who: str) -> None:
        self.client, self.who = client, who
        self.problems: list[str] = []
        self.known: dict[str, int] | None = None  # the counts after the last refused POST

    def send(self, method: str, url: str, label: str, **kwargs: Any) -> Any:
        if method != "GET":
            self.known = None
        if isinstance(kwargs.get("data"), list):  # repeated names, in this order
            headers = {**kwargs.pop("headers", {}), "content-type": FORM_TYPE}
            kwargs.update(content=urlencode(kwargs.pop("data")), headers=headers)
        STATS["requests"] += 1
        try:
            response = reliability.hostile(self.client.request, method, url, **kwargs)
        except Exception as exc:  # the test client re-raises what would have been a 500
            STATS["5xx"] += 1
            self.problems.append(
                f"[{self.who}] {method} {url[:120]} {label}: 500 {type(exc).__name__}:"
                f" {str(exc)[:300]}"
            )
            return None
        if response.status_code >= 500:
            STATS["5xx"] += 1
            self.problems.append(f"[{self.who}] {method} {url[:120]} {label}: 5xx")
        kind = response.headers.get("content-type", "")
        if kind.startswith(("text/", "application/json")) and LEAK in response.text:
            self.problems.append(f"[{self.who}] {method} {url[:120]} {label}: <script> unescaped")
        return response

    def get(self, url: str, params: list[tuple[str, str]], label: str, **kwargs: Any) -> Any:
        response = self.send("GET", url, label, params=params, **kwargs)
        if response is not None and response.status_code not in GET_OK:
            self.problems.append(f"[{self.who}] GET {url[:120]} {label}: {response.status_code}")
        return response

    def refused(
        self,
        url: str,
        data: Any,
        label: str,
        expect: tuple[int, ...] = (422,),
        says: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """POST a body that must be refused: the status is one of ``expect``, one of the
        messages ``says`` (HTML-escaped) is on the page, and no row changed count."""
        before = self.known or counts()
        response = self.send("POST", url, label, data=data, **kwargs)
        if response is None:
            return None
        where = f"[{self.who}] POST {url[:120]} {label}"
        if response.status_code not in expect:
            self.problems.append(f"{where}: {response.status_code}, expected {expect}")
        elif says and not any(s in response.text for s in says):
            self.problems.append(f"{where}: none of {[s[:40] for s in says]} shown")
        after = counts()
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            self.problems.append(f"{where}: left rows {changed}")
        self.known = after
        return response

    def check(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


# --- the objects the routes need ---------------------------------------------------------


@dataclass(frozen=True)
class World:
    inspection: int  # xa's submitted inspection (by d4-liuhong), with one photo
    photo: int
    open_inspection: int  # xa's inspection being filled in
    checklist: int  # d4's test checklist
    draw: int  # d4's draw of centres
    rectification: int  # a finding item at xa, answered with one PDF
    evidence: int
    case: int  # a case of xa
    circular: int  # d4's circular to xa, one attachment
    attachment: int
    doc: int  # xa's document
    log: int  # xa-clerk's work log
    window: int  # a window of xa whose A post is xa-clerk, without a log …
    day: str  # … on this past working day (yyyy-mm-dd)


def upload(name: str, data: bytes, kind: str) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=name, headers=Headers({"content-type": kind}))


async def _world() -> World:
    tree = await tenancy.tree()
    xa, d4 = tree.by_slug["xa"].id, tree.by_slug["d4"].id
    inspection, photo = await inspections.submitted_inspection("xa")
    open_inspection = await inspections.start("xa")
    checklist = (await inspections.checklist())["id"]
    system = system_scope(tree, reason="tests: hostile oversight")
    async with db.write(system):
        draw = await draw_queries.insert_draw(
            system,
            d4,
            kind="centres",
            month=202703,
            seed="hostile",
            params={"centres": 1, "inspectors": 1},
            pool={"centres": [xa], "inspectors": []},
            result={"centres": []},
        )
    supervisor = await scope_of(SUPERVISOR, "d4")
    now = datetime.now(UTC)
    due = await ledger.due_in(supervisor, xa, now, ledger.DUE_HALVES)
    owner = (await ledger.managers(supervisor, xa))[0]["user_id"]
    async with db.write(supervisor):
        item = await ledger.open_item(
            supervisor, xa, "finding", None, None, f"发现 {secrets.token_hex(3)}", "", owner, due
        )
    manager = await scope_of(MANAGER, "xa")
    await ledger_evidence.answer(
        None, manager, item, "佐证", [upload("佐证.pdf", PDF, "application/pdf")]
    )
    evidence = (await ledger_flow.evidence(manager, item))[0]["id"]
    case = await register(CLERK, "xa", DIBAO, name="督办")
    circular = await circulars.issue(
        None,
        supervisor,
        tree,
        circulars.Draft(
            title="通报",
            body="正文",
            everyone=False,
            chosen=[xa],
            uploads=[upload("附件.pdf", PDF, "application/pdf")],
        ),
    )
    files = await circular_queries.attachments(supervisor, d4, circular)
    doc = await documents.create(
        None,
        manager,
        documents.Entry(
            kind="rules",
            title="制度汇编",
            edition="2026",
            upload=upload("制度汇编.pdf", PDF, "application/pdf"),
        ),
    )
    return World(
        inspection=inspection,
        photo=photo,
        open_inspection=open_inspection,
        checklist=int(checklist),
        draw=int(draw),
        rectification=int(item),
        evidence=int(evidence),
        case=int(case["id"]),
        circular=int(circular),
        attachment=int(files[0]["id"]),
        doc=int(doc),
        log=await make_log("xa", CLERK),
        window=await new_window("xa", CLERK),
        day=(await _last_working_day(xa)).isoformat(),
    )


async def _last_working_day(tenant_id: int) -> date:
    system = system_scope(await tenancy.tree(), reason="tests: hostile calendar")
    cal = await calendar.load(system, tenant_id)
    day = worklog.today() - timedelta(days=1)
    while not cal.days.is_working_day(day):
        day -= timedelta(days=1)
    return day


@pytest.fixture(scope="module", name="world")
def world_fixture() -> World:
    """The objects the routes need (import ``world_fixture`` to use ``world``)."""
    return run(_world())
