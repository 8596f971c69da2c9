"""The inspection flow of the ledger (finding and 督办 items): answer with evidence, verify.

1. The centre's manager (``ledger.manage``, at the item's own centre) answers: what was done
   (required) and any number of evidence files (photos, PDF; type by content, size limited
   by ``app.storage``).  ``open`` → ``fixed`` (answered).  Files are stored first, outside
   the transaction; if anything is refused, the files already stored are deleted again and
   nothing is written.  While not closed, a rating item may also get evidence (no state
   change); an answered item waits for the inspector and takes no more files.
2. The inspector — a supervisor of the centre with ``inspection.verify``, at the division's
   address or the centre's — accepts (→ ``closed``, outcome resolved) or rejects with a
   reason (→ ``open``; the centre answers again).  A centre's own manager never verifies.

Every answer, verification and file is a ``RectificationStep`` / ``RectificationEvidence``
row, so each round stays visible, and an audit entry.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app import db
from app.accounts import audit
from app.cases import ledger
from app.cases.queries import ledger as queries
from app.cases.queries import ledger_flow
from app.storage.filetypes import DEFAULT_TYPES
from app.storage.services import UploadRefused, accept_upload, delete_file
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

DOMAIN = "rectifications"
EVIDENCE_TYPES = DEFAULT_TYPES  # JPEG, PNG, PDF
MAX_FILES = 10
DECISIONS = {"accept": _l("Accept the rectification"), "reject": _l("Reject: rectify again")}
STEP_KINDS = {
    "opened": _l("Item opened"),
    "answer": _l("Answered by the centre"),
    "accept": _l("Accepted by the inspector"),
    "reject": _l("Rejected by the inspector"),
    "extend": _l("Due date extended"),
}
FLOW_STATES = {
    "open": _l("Awaiting the centre's answer"),
    "fixed": _l("Answered, awaiting verification"),
    "closed": _l("Closed"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def state_label(item: dict[str, Any]) -> Any:
    if ledger.inspection_flow(item):
        return FLOW_STATES.get(item["state"], item["state"])
    return ledger.STATES.get(item["state"], item["state"])


def may_answer(scope: TenantScope, item: dict[str, Any]) -> bool:
    return (
        ledger.may_act(scope, item)
        and item["state"] != "closed"
        and (not ledger.inspection_flow(item) or item["state"] == "open")
    )


def _check_verifier(scope: TenantScope, item: dict[str, Any]) -> None:
    """A supervisor of the item's centre with ``inspection.verify``; readers get 403."""
    if item["tenant_id"] not in scope.read_ids:
        raise NotFound()
    if item["tenant_id"] not in scope.supervise_ids or not scope.can("inspection.verify"):
        raise Forbidden()
    if not ledger.inspection_flow(item):
        raise Forbidden()


def may_verify(scope: TenantScope, item: dict[str, Any]) -> bool:
    try:
        _check_verifier(scope, item)
    except (Forbidden, NotFound):
        return False
    return item["state"] == ledger_flow.ANSWERED


def chosen_files(values: list[Any]) -> list[UploadFile]:
    return [v for v in values if isinstance(v, UploadFile) and (v.filename or v.size)]


async def answer(
    request: Request | None,
    scope: TenantScope,
    item_id: int,
    note: str,
    uploads: list[UploadFile],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The centre's answer (inspection flow) or extra evidence (rating items)."""
    item = await ledger.load(scope, item_id)
    ledger.require_act(scope, item)
    flow = ledger.inspection_flow(item)
    if item["state"] == "closed":
        raise ledger.LedgerError(_("This item is closed."), "")
    if flow and item["state"] != "open":
        raise ledger.LedgerError(_("The answer is waiting for the inspector's verification."), "")
    if flow:
        note = ledger.note_text(note, _("Write what was done to rectify it."))
    else:
        note = (note or "").strip()
        if len(note) > ledger.NOTE_MAX:
            raise ledger.LedgerError(_("At most %(n)d characters.", n=ledger.NOTE_MAX), "note")
        if not uploads:
            raise ledger.LedgerError(_("Choose a file to upload."), "files")
    if len(uploads) > MAX_FILES:
        raise ledger.LedgerError(_("At most %(n)d files at once.", n=MAX_FILES), "files")
    stored: list[int] = []
    try:
        for upload in uploads:
            try:
                info = await accept_upload(
                    scope,
                    upload,
                    domain=DOMAIN,
                    allowed=EVIDENCE_TYPES,
                    tenant_id=item["tenant_id"],
                )
            except UploadRefused as exc:
                raise ledger.LedgerError(f"{upload.filename}: {exc.message}", "files") from None
            stored.append(info.id)
        now = now or _now()
        async with db.write(scope):
            item = await ledger.load(scope, item_id)
            ledger.require_act(scope, item)
            if item["state"] == "closed":
                raise ledger.LedgerError(_("This item is closed."), "")
            if flow and item["state"] != "open":
                raise ledger.LedgerError(
                    _("The answer is waiting for the inspector's verification."), ""
                )
            step_id = None
            if flow:
                step_id = await ledger_flow.insert_step(
                    scope, item["tenant_id"], item_id, "answer", note, scope.user_id, now
                )
                await queries.update_rectification(
                    scope, item_id, now, state=ledger_flow.ANSWERED, fix_note=note, fixed_at=now
                )
            for file_id in stored:
                await ledger_flow.insert_evidence(
                    scope, item["tenant_id"], item_id, step_id, file_id, note, scope.user_id, now
                )
            await audit.record(
                request,
                "rectification.answered" if flow else "rectification.evidence",
                tenant_id=item["tenant_id"],
                object_type="rectification",
                object_id=item_id,
                files=len(stored),
            )
    except BaseException:
        for file_id in stored:
            await delete_file(scope, file_id)
        raise
    return await ledger.load(scope, item_id)


async def verify(
    request: Request | None,
    scope: TenantScope,
    item_id: int,
    decision: str,
    note: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The inspector's verification of an answered finding / 督办 item."""
    item = await ledger.load(scope, item_id)
    _check_verifier(scope, item)
    if decision not in DECISIONS:
        raise ledger.LedgerError(_("Choose accept or reject."), "decision")
    if decision == "reject":
        note = ledger.note_text(note, _("A rejection states what is still wrong."))
    else:
        note = (note or "").strip()
        if len(note) > ledger.NOTE_MAX:
            raise ledger.LedgerError(_("At most %(n)d characters.", n=ledger.NOTE_MAX), "note")
    now = now or _now()
    async with db.write(scope):
        item = await ledger.load(scope, item_id)
        _check_verifier(scope, item)
        if item["state"] != ledger_flow.ANSWERED:
            if item["state"] == "closed":
                raise ledger.LedgerError(_("This item is closed."), "")
            raise ledger.LedgerError(_("The centre has not answered yet."), "")
        await ledger_flow.insert_step(
            scope, item["tenant_id"], item_id, decision, note, scope.user_id, now
        )
        if decision == "accept":
            values: dict[str, Any] = {
                "state": "closed",
                "outcome": "resolved",
                "outcome_note": note,
                "closed_at": now,
                "verify_note": note,
                "verified_at": now,
            }
        else:
            values = {"state": "open", "verify_note": note, "verified_at": now}
        await queries.supervise_rectification(scope, item_id, now, **values)
        await audit.record(
            request,
            f"rectification.{'accepted' if decision == 'accept' else 'rejected'}",
            tenant_id=item["tenant_id"],
            object_type="rectification",
            object_id=item_id,
        )
    return await ledger.load(scope, item_id)


async def evidence_file(
    scope: TenantScope, item_id: int, evidence_id: int
) -> tuple[TenantScope, int]:
    """(scope at the item's centre, file id) of one evidence row of a readable item; 404
    otherwise.  Readers are the centre's ledger readers and its supervisors."""
    item = await ledger.load(scope, item_id)
    row = await ledger_flow.evidence_row(scope, item_id, evidence_id)
    if row is None or row["tenant_id"] != item["tenant_id"]:
        raise NotFound()
    return dataclasses.replace(scope, tenant_id=item["tenant_id"]), int(row["file_id"])
