"""The rectification ledger (整改台账): one table for every source, one way to work it.

A ledger item is opened by its source — this issue: a rating of 不满意 or worse
(:mod:`app.cases.ratings`); later inspection findings and supervision (督办) call
:func:`open_item` the same way — with an owner and a due date.  The centre's manager
(capability ``ledger.manage``) then works through four steps, in order, each with a note:

``open`` —verify→ ``verified`` —fix→ ``fixed`` —call back→ ``called_back`` —outcome→
``closed`` (resolved / unresolved).

At most one extension, with a reason, moves the due date later by whole working days on
the centre's calendar.  Every step is stored on the row and written to the audit log.
Supervisors (``ledger.view``) read their subtree's ledgers; only the centre itself acts.

Items from an inspection finding or from supervision (督办) follow the inspection flow of
:mod:`app.cases.ledger_evidence` instead of the four steps: the centre answers with what was
done and evidence files (``open`` → ``fixed``), the inspector verifies (accept → ``closed``
/ resolved; reject with a reason → ``open`` again).  Their history is kept one row per event
in ``RectificationStep`` (opened, answer, accept, reject, extend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.calendar import services as calendar
from app.cases.queries import ledger as queries
from app.cases.queries import ledger_flow
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

STATES = {
    "open": _l("Open"),
    "verified": _l("Verified"),
    "fixed": _l("Fixed"),
    "called_back": _l("Called back"),
    "closed": _l("Closed"),
}
SOURCES = {
    "rating": _l("Low rating"),
    "finding": _l("Inspection finding"),
    "supervision": _l("Supervision"),
}
OUTCOMES = {"resolved": _l("Resolved"), "unresolved": _l("Unresolved")}
DUE_HALVES = 10  # 5 working days for a new item
MAX_EXTENSION_DAYS = 20
NOTE_MAX = 2000


@dataclass(frozen=True)
class Step:
    name: str
    label: Any
    source: str  # the state the step starts from
    target: str
    note_column: str
    at_column: str


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("verify", _l("Verify"), "open", "verified", "verify_note", "verified_at"),
        Step("fix", _l("Fix"), "verified", "fixed", "fix_note", "fixed_at"),
        Step(
            "callback", _l("Call back"), "fixed", "called_back", "callback_note", "called_back_at"
        ),
        Step("outcome", _l("Outcome"), "called_back", "closed", "outcome_note", "closed_at"),
    )
}
ORDER = ("verify", "fix", "callback", "outcome")
FLOW_SOURCES = ledger_flow.FLOW_SOURCES  # worked by answer + inspector's verification


def inspection_flow(item: dict[str, Any]) -> bool:
    """Finding and 督办 items: answered with evidence, verified by the inspector."""
    return item["source"] in FLOW_SOURCES


class LedgerError(Exception):
    """A step refused for a reason the user can fix (shown in the form)."""

    def __init__(self, message: str, field: str = "note") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def utcnow() -> datetime:
    return datetime.now(UTC)


def next_step(item: dict[str, Any]) -> Step | None:
    """The one step that may be taken now (None once closed, or for the inspection flow)."""
    if inspection_flow(item):
        return None
    return next((s for s in STEPS.values() if s.source == item["state"]), None)


def is_overdue(item: dict[str, Any], now: datetime | None = None) -> bool:
    now = now or utcnow()
    due = item["due_at"]
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return item["state"] != "closed" and due is not None and due < now


async def managers(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The centre's active managers, oldest membership first (the first owns new items)."""
    return [
        m
        for m in await accounts.members(scope, tenant_id)
        if m["active"] and "manager" in m["roles"]
    ]


async def due_in(scope: TenantScope, tenant_id: int, start: datetime, halves: int) -> datetime:
    """``halves`` service sessions after the day of ``start`` on the centre's calendar."""
    cal = await calendar.load(scope, tenant_id)
    return cal.due_at(start, halves).at


async def open_item(
    scope: TenantScope,
    tenant_id: int,
    source: str,
    source_id: int | None,
    case_id: int | None,
    title: str,
    detail: str,
    owner_id: int | None,
    due_at: datetime,
    *,
    now: datetime | None = None,
    request: Request | None = None,
) -> int:
    """Open a ledger item (inside the caller's write transaction); returns its id."""
    if source not in SOURCES:
        raise ValueError(f"unknown ledger source {source!r}")
    now = now or utcnow()
    item_id = await queries.insert_rectification(
        scope,
        tenant=tenant_id,
        source=source,
        source_id=source_id,
        case=case_id,
        title=title[:200],
        detail=detail,
        owner=owner_id,
        state="open",
        opened_at=now,
        due_at=due_at,
        updated_at=now,
    )
    await audit.record(
        request,
        "rectification.opened",
        tenant_id=tenant_id,
        object_type="rectification",
        object_id=item_id,
        source=source,
        source_id=source_id,
    )
    await ledger_flow.insert_step(scope, tenant_id, item_id, "opened", "", scope.user_id, now)
    return item_id


# --- working the item ---------------------------------------------------------------------


async def load(scope: TenantScope, item_id: int) -> dict[str, Any]:
    item = await queries.rectification(scope, item_id)
    if item is None:
        raise NotFound()
    return item


def _may_act(scope: TenantScope, item: dict[str, Any]) -> None:
    """``ledger.manage`` at the item's own centre; a reader elsewhere gets 403."""
    if item["tenant_id"] not in scope.write_ids:
        if item["tenant_id"] in scope.read_ids:
            raise Forbidden()
        raise NotFound()
    scope.require("ledger.manage")


def require_act(scope: TenantScope, item: dict[str, Any]) -> None:
    """Raise 403 (a reader) or 404 (another centre) unless the scope works this item."""
    _may_act(scope, item)


def may_act(scope: TenantScope, item: dict[str, Any]) -> bool:
    try:
        _may_act(scope, item)
    except (Forbidden, NotFound):
        return False
    return True


def _note(text: str, message: str, field: str = "note") -> str:
    text = (text or "").strip()
    if not text:
        raise LedgerError(message, field)
    if len(text) > NOTE_MAX:
        raise LedgerError(_("At most %(n)d characters.", n=NOTE_MAX), field)
    return text


def note_text(text: str, message: str, field: str = "note") -> str:
    """A required note, stripped and at most ``NOTE_MAX`` characters (``LedgerError``)."""
    return _note(text, message, field)


async def take_step(
    request: Request | None,
    scope: TenantScope,
    item_id: int,
    step: str,
    note: str,
    outcome: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record one step (in order, with its note); the outcome closes the item."""
    if step not in STEPS:
        raise NotFound()
    spec = STEPS[step]
    item = await load(scope, item_id)
    _may_act(scope, item)
    if inspection_flow(item):
        raise LedgerError(
            _("This item is answered with evidence and verified by the inspector."), ""
        )
    note = _note(note, _("Write what was done in this step."))
    if step == "outcome" and outcome not in OUTCOMES:
        raise LedgerError(_("Choose resolved or unresolved."), "outcome")
    now = now or utcnow()
    async with db.write(scope):
        item = await load(scope, item_id)
        _may_act(scope, item)
        if item["state"] != spec.source:
            expected = next_step(item)
            if expected is None:
                raise LedgerError(_("This item is closed."), "")
            raise LedgerError(
                _(
                    "Steps go in order: the next step is “%(step)s”.",
                    step=str(expected.label),
                ),
                "",
            )
        values: dict[str, Any] = {
            "state": spec.target,
            spec.note_column: note,
            spec.at_column: now,
        }
        if step == "outcome":
            values["outcome"] = outcome
        await queries.update_rectification(scope, item_id, now, **values)
        await audit.record(
            request,
            f"rectification.{step}",
            tenant_id=item["tenant_id"],
            object_type="rectification",
            object_id=item_id,
            outcome=outcome if step == "outcome" else "",
        )
    return await load(scope, item_id)


async def extend(
    request: Request | None,
    scope: TenantScope,
    item_id: int,
    days: int | None,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The one extension: ``days`` working days after the current due date, with a reason."""
    item = await load(scope, item_id)
    _may_act(scope, item)
    if item["state"] == "closed":
        raise LedgerError(_("This item is closed."), "")
    if item["extended"]:
        raise LedgerError(_("The due date has already been extended once."), "")
    if days is None or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise LedgerError(
            _("An extension is 1 to %(n)d working days.", n=MAX_EXTENSION_DAYS), "days"
        )
    reason = _note(reason, _("An extension states its reason."), "reason")
    now = now or utcnow()
    due = item["due_at"]
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    new_due = await due_in(scope, item["tenant_id"], due, days * 2)
    if new_due <= max(due, now):
        raise LedgerError(
            _("The new due date must be later than today: extend by more days."), "days"
        )
    async with db.write(scope):
        item = await load(scope, item_id)
        _may_act(scope, item)
        if item["extended"]:
            raise LedgerError(_("The due date has already been extended once."), "")
        if item["state"] == "closed":
            raise LedgerError(_("This item is closed."), "")
        await queries.update_rectification(
            scope, item_id, now, due_at=new_due, extended=True, extension_reason=reason
        )
        await ledger_flow.insert_step(
            scope, item["tenant_id"], item_id, "extend", reason, scope.user_id, now
        )
        await audit.record(
            request,
            "rectification.extended",
            tenant_id=item["tenant_id"],
            object_type="rectification",
            object_id=item_id,
            days=days,
            old_due=due.isoformat(),
            new_due=new_due.isoformat(),
        )
    return await load(scope, item_id)
