"""Conducting an inspection (督促检查): planning or starting it, saving its answers section by
section from a phone, the centre manager's acknowledgement.  Photos are in
:mod:`app.inspections.photos`, the submission with its findings in
:mod:`app.inspections.findings`, the arithmetic in :mod:`app.inspections.scoring`.

Who may do what:

* a division's inspector (``inspection.conduct``) plans, fills and submits inspections of
  the centres it supervises — the rows belong to the centre (``supervise_ids``);
* the centre's manager (``inspection.acknowledge``) acknowledges a submitted inspection of
  its own centre, once;
* readers (``inspection.view``): the division its whole subtree, a centre its own —
  and a centre sees an inspection only once it has been submitted (spot checks are
  unannounced).

Resending is harmless: a start carries a ``client_key`` (one row per key and centre), a
save a ``save_id`` (remembered on the row, a resent save answers like the first),
a photo its own ``client_key``.  A save based on an older ``lock_version`` than the row's
(another phone saved meanwhile) is refused with :class:`Conflict`, never merged blindly.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.inspections import definition as definitions
from app.inspections import scoring
from app.inspections.queries import checklists as checklist_queries
from app.inspections.queries import inspections as queries
from app.tenancy.scope import TenantScope, Tree
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

STATES = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "acknowledged": _l("Acknowledged"),
}
ORIGINS = {
    "planned": _l("Planned inspection"),
    "spot": _l("Spot check"),
    "drawn": _l("Random draw"),
}
OPEN_STATES = ["planned", "in_progress"]
DONE_STATES = ["submitted", "acknowledged"]
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SAVES_KEPT = 50  # the save ids remembered on the row (answers["_saves"])
SAVES = "_saves"


class InspectionError(Exception):
    """Refused for a reason the user can fix; ``field`` names the form field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Exception):
    """The row changed since the client loaded it (another phone saved, or it was submitted)."""

    def __init__(self, message: str, lock_version: int) -> None:
        super().__init__(message)
        self.message = message
        self.lock_version = lock_version


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_key() -> str:
    return uuid.uuid4().hex


def valid_key(value: str) -> bool:
    return bool(KEY.match(value or ""))


def acting(scope: TenantScope, tenant_id: int) -> TenantScope:
    """The inspector's scope writing for one supervised centre (404 for any other): the rows
    it writes there (photos' files, findings, ledger items) are casework or supervisory, which
    a supervisor of the subtree may insert (``TenantScope.check_casework``)."""
    if tenant_id not in scope.supervise_ids:
        raise NotFound()
    return scope


# --- reading ------------------------------------------------------------------------------


@dataclass
class Loaded:
    row: dict[str, Any]
    definition: definitions.Definition

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def tenant_id(self) -> int:
        return int(self.row["tenant_id"])

    @property
    def answers(self) -> dict[str, Any]:
        answers = self.row.get("answers") or {}
        return answers if isinstance(answers, dict) else {}

    @property
    def state(self) -> str:
        return str(self.row["state"])


def may_conduct(scope: TenantScope, row: dict[str, Any]) -> bool:
    return scope.can("inspection.conduct") and row["tenant_id"] in scope.supervise_ids


def may_acknowledge(scope: TenantScope, row: dict[str, Any]) -> bool:
    return (
        scope.can("inspection.acknowledge")
        and row["tenant_id"] in scope.write_ids
        and row["state"] == "submitted"
    )


async def load(scope: TenantScope, inspection_id: int) -> Loaded:
    """The inspection (404 unless readable; a centre sees it once submitted)."""
    scope.require("inspection.view")
    row = await queries.inspection(scope, inspection_id)
    if row is None:
        raise NotFound()
    if row["state"] in OPEN_STATES and row["tenant_id"] not in scope.supervise_ids:
        raise NotFound()
    version = await checklist_queries.version(scope, row["version_id"])
    if version is None:
        raise NotFound()
    return Loaded(row, definitions.load(version["definition"]))


async def load_for_conduct(scope: TenantScope, inspection_id: int) -> Loaded:
    loaded = await load(scope, inspection_id)
    if not may_conduct(scope, loaded.row):
        raise Forbidden()
    return loaded


# --- planning and starting -----------------------------------------------------------------


def centres(tree: Tree, scope: TenantScope) -> list[Any]:
    """The centres this inspector may inspect: its subtree without divisions."""
    return sorted(
        (n for n in tree.nodes.values() if n.id in scope.supervise_ids and n.kind != "division"),
        key=lambda n: (n.kind != "regiment", n.slug),
    )


async def checklists(scope: TenantScope) -> list[dict[str, Any]]:
    """The checklists in use (not retired) the scope may inspect with."""
    rows = await checklist_queries.checklists(scope)
    return [r for r in rows if r["retired_at"] is None]


async def inspectors(scope: TenantScope) -> list[dict[str, Any]]:
    """The supervisors of the scope's own tenant (the division's inspectors)."""
    return [
        m
        for m in await accounts.members(scope, scope.own())
        if m["active"] and "supervisor" in m["roles"]
    ]


@dataclass
class Plan:
    centre_id: int
    checklist_id: int
    planned_on: date
    inspectors: list[int]
    origin: str
    client_key: str
    draw_id: int | None = None
    start_now: bool = False  # go straight to filling it in (a spot check, or a drawn one now)


async def start(
    request: Request | None,
    scope: TenantScope,
    tree: Tree,
    plan: Plan,
    *,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Plan an inspection (or start one on the spot); returns (id, created).  The same
    ``client_key`` for the same centre returns the inspection it created the first time."""
    scope.require("inspection.conduct")
    if plan.centre_id not in {n.id for n in centres(tree, scope)}:
        raise InspectionError(_("Choose a centre you supervise."), "centre")
    if not valid_key(plan.client_key):
        raise InspectionError(_("The form has expired: open it again."), "")
    found = await queries.inspection_by_key(scope, plan.centre_id, plan.client_key)
    if found is not None:
        return int(found["id"]), False
    checklist = next((c for c in await checklists(scope) if c["id"] == plan.checklist_id), None)
    if checklist is None:
        raise InspectionError(_("Choose a checklist."), "checklist")
    version = await checklist_queries.version_number(
        scope, checklist["id"], checklist["current_version"]
    )
    if version is None:
        raise InspectionError(_("This checklist has no version yet."), "checklist")
    allowed = {m["user_id"] for m in await inspectors(scope)}
    chosen = [u for u in dict.fromkeys(plan.inspectors) if u in allowed]
    if scope.user_id is not None and scope.user_id not in chosen:
        chosen.insert(0, scope.user_id)
    if plan.origin not in ORIGINS:
        raise InspectionError(_("Choose how the inspection came about."), "origin")
    now = now or utcnow()
    spot = plan.origin == "spot" or plan.start_now
    try:
        async with db.write(scope):
            inspection_id = await queries.insert_inspection(
                scope,
                plan.centre_id,
                checklist=checklist["id"],
                version=version["id"],
                origin=plan.origin,
                draw=plan.draw_id,
                client_key=plan.client_key,
                planned_on=plan.planned_on,
                inspectors=chosen,
                lead=scope.user_id,
                state="in_progress" if spot else "planned",
                answers={},
                started_at=now if spot else None,
                lock_version=1,
                created_at=now,
                updated_at=now,
            )
            await audit.record(
                request,
                "inspection.started" if spot else "inspection.planned",
                tenant_id=plan.centre_id,
                object_type="inspection",
                object_id=inspection_id,
                checklist=checklist["code"],
                origin=plan.origin,
            )
    except Exception as exc:
        if not unique_violation(exc):
            raise
        found = await queries.inspection_by_key(scope, plan.centre_id, plan.client_key)
        if found is None:
            raise
        return int(found["id"]), False
    return inspection_id, True


def unique_violation(exc: BaseException) -> bool:
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(exc, asyncpg.exceptions.UniqueViolationError)


# --- acknowledging ---------------------------------------------------------------------------


async def acknowledge(
    request: Request | None,
    scope: TenantScope,
    inspection_id: int,
    note: str,
    *,
    now: datetime | None = None,
) -> None:
    """The centre's manager has read the result (once; the note is optional)."""
    scope.require("inspection.acknowledge")
    note = (note or "").strip()
    if len(note) > scoring.NOTE_MAX:
        raise InspectionError(_("At most %(n)d characters.", n=scoring.NOTE_MAX), "note")
    now = now or utcnow()
    async with db.write(scope):
        loaded = await load(scope, inspection_id)
        if loaded.tenant_id not in scope.write_ids:
            raise Forbidden()
        if loaded.state == "acknowledged":
            raise InspectionError(_("This inspection has already been acknowledged."), "")
        if loaded.state != "submitted":
            raise InspectionError(_("Only a submitted inspection can be acknowledged."), "")
        done = await queries.update_inspection(
            scope,
            inspection_id,
            loaded.tenant_id,
            {
                "state": "acknowledged",
                "acknowledged_at": now,
                "acknowledged_by": scope.user_id,
                "acknowledge_note": note,
                "updated_at": now,
            },
            states=["submitted"],
        )
        if not done:
            raise InspectionError(_("This inspection has already been acknowledged."), "")
        await audit.record(
            request,
            "inspection.acknowledged",
            tenant_id=loaded.tenant_id,
            object_type="inspection",
            object_id=inspection_id,
        )
