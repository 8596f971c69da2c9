"""Intake at the window: register a case, the one-time notice, supplements, acceptance and
refusal (Administrative Licensing Law Art. 32).

A case gets its number at registration from the centre's gap-free counter in the same
transaction.  Registration with complete materials accepts at once (an immediate item
also concludes on the spot; an escalated one goes to the parent's queue); with anything
missing or defective it issues the one-time notice listing *every* problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app import db
from app.accounts import audit
from app.calendar.workdays import TenantCalendar
from app.cases import identity, papers, workflow
from app.cases.materials import MaterialCheck, check_identity, complete, lines_of
from app.cases.papers import (
    DEFAULT_SUPPLEMENT_DAYS,
    REFUSAL_BASIS,
    RIGHTS,
    case_number,
    document_number,
    local_year,
    lookup_code,
)
from app.cases.queries import core as queries
from app.cases.queries import desk as desk_queries
from app.cases.timeline import Actor, act, check, clock, utcnow
from app.catalogue.queries import public as items
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _


@dataclass
class Intake:
    item_code: str
    applicant_kind: str
    applicant_name: str
    id_number: str
    phone: str
    channel: str
    materials: dict[int, MaterialCheck] = field(default_factory=dict)
    urgent: bool = False
    green_channel: bool = False
    contact_address: str = ""
    note: str = ""
    supplement_days: int = DEFAULT_SUPPLEMENT_DAYS
    files: list[tuple[int | None, int]] = field(default_factory=list)  # (position, file id)


async def _item(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any]:
    item = await items.adopted_item(scope, tenant_id, code)
    if item is None:
        raise workflow.WorkflowError(_("Choose an item this centre handles."), "item_code")
    if item["retired_at"] is not None:
        raise workflow.WorkflowError(
            _("This item has been retired: it takes no new applications."), "item_code"
        )
    return item


async def register(
    scope: TenantScope, actor: Actor, intake: Intake, now: datetime | None = None
) -> int:
    """Register a case (and notify, or accept, in the same transaction); returns its id."""
    scope.require("case.register")
    tenant_id = scope.own()
    scope.check_write(tenant_id)
    now = now or utcnow()
    item = await _item(scope, tenant_id, intake.item_code)
    if intake.applicant_kind not in workflow.APPLICANT_KINDS:
        raise workflow.WorkflowError(_("Choose person or organisation."), "applicant_kind")
    if intake.channel not in workflow.CHANNELS:
        raise workflow.WorkflowError(_("Choose how the application came in."), "channel")
    id_number = check_identity(item["content"]["kind"], intake.applicant_kind, intake.id_number)
    if not intake.applicant_name.strip():
        raise workflow.WorkflowError(_("Enter the applicant's name."), "applicant_name")
    if intake.phone and not identity.is_phone(intake.phone):
        raise workflow.WorkflowError(
            _("Enter a mobile number or a landline with its area code."), "phone"
        )
    content = item["content"]
    lines = lines_of(content, intake.materials, now)
    cal, margin = await clock(scope, tenant_id)
    node = await tenancy.tenant(scope, tenant_id)
    if node is None:
        raise NotFound()
    year = local_year(now)
    async with db.write(scope):
        seq = await queries.next_number(scope, tenant_id, "case", year)
        case_id = await queries.insert_case(
            scope,
            tenant=tenant_id,
            number=case_number(node["slug"], year, seq),
            year=year,
            seq=seq,
            tenant_item=item["id"],
            template=item["template_id"],
            version=item["version_id"],
            item_code=item["code"],
            item_name=content["name"],
            kind=content["kind"],
            promised_halves=int(item["promised"]),
            legal_halves=int(content["legal_halves"]),
            applicant_kind=intake.applicant_kind,
            applicant_name=intake.applicant_name.strip(),
            id_kind="resident_id" if intake.applicant_kind == "person" else "credit_code",
            id_number=id_number,
            id_hash=identity.id_hash(id_number),
            phone=intake.phone.strip(),
            contact_address=intake.contact_address.strip(),
            channel=intake.channel,
            window=item["window_id"],
            owner=actor.id,
            queue_tenant=tenant_id,
            state="registered",
            urgent=intake.urgent,
            green_channel=intake.green_channel,
            lookup_code=lookup_code(),
            note=intake.note.strip(),
            registered_at=now,
        )
        await queries.insert_materials(scope, tenant_id, case_id, lines)
        await queries.insert_event(
            scope,
            tenant_id,
            case_id,
            at=now,
            action="registered",
            actor_id=actor.id,
            actor_name=actor.name,
            state="registered",
            data={"version": item["version_number"], "channel": intake.channel},
        )
        await attach_files(scope, tenant_id, case_id, actor, intake.files, now)
        await audit.record(
            None,
            "case.registered",
            tenant_id=tenant_id,
            actor_id=actor.id,
            actor_name=actor.name,
            object_type="case",
            object_id=case_id,
        )
        case = await queries.case(scope, case_id)
        assert case is not None
        if complete(lines):
            await _accept(scope, case, actor, now, cal, margin, note="")
        else:
            await papers.notice(
                scope, case, actor, now, cal, margin, lines, intake.supplement_days, ""
            )
    return case_id


async def attach_files(
    scope: TenantScope,
    tenant_id: int,
    case_id: int,
    actor: Actor,
    files: list[tuple[int | None, int]],
    now: datetime,
) -> None:
    """Attach stored files to a case (and material lines), inside the caller's write."""
    if not files:
        return
    lines = {m["position"]: m["id"] for m in await queries.materials(scope, case_id)}
    await desk_queries.insert_files(
        scope,
        tenant_id,
        case_id,
        (
            (lines.get(position) if position is not None else None, file_id)
            for position, file_id in files
        ),
        actor.id,
        now,
    )


async def _accept(
    scope: TenantScope,
    case: dict[str, Any],
    actor: Actor,
    now: datetime,
    cal: TenantCalendar,
    margin: int,
    note: str,
) -> dict[str, Any]:
    case = await act(
        scope,
        case,
        "accepted",
        actor,
        now=now,
        cal=cal,
        margin=margin,
        note=note,
        columns={"accepted_at": now},
    )
    if case["kind"] == "immediate":
        case = await act(
            scope,
            case,
            "concluded",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=_("Immediate item: concluded on the spot."),
            state="concluded",
            columns={"concluded_at": now, "decision": "approved"},
        )
    elif case["kind"] == "escalated":
        tree = await tenancy.tree()
        parent = tree.nodes[case["tenant_id"]].parent_id
        if parent is not None:
            case = await act(
                scope,
                case,
                "escalated",
                actor,
                now=now,
                cal=cal,
                margin=margin,
                data={"queue_tenant": parent},
                columns={"queue_tenant": parent},
            )
    return case


async def _load(scope: TenantScope, case_id: int) -> dict[str, Any]:
    case = await queries.case(scope, case_id)
    if case is None:
        raise NotFound()
    return case


async def update_materials(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    checks: dict[int, MaterialCheck],
    files: list[tuple[int | None, int]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record materials handed in after a notice (the state stays ``supplement``)."""
    now = now or utcnow()
    case = await _load(scope, case_id)
    check(scope, case, "supplemented")
    cal, margin = await clock(scope, case["tenant_id"])
    async with db.write(scope):
        case = await _load(scope, case_id)
        check(scope, case, "supplemented")
        current = await queries.materials(scope, case_id)
        content_like = {
            "materials": [{"name": m["name"], "requirement": m["requirement"]} for m in current]
        }
        merged = {
            m["position"]: checks.get(m["position"], MaterialCheck(m["status"], m["problem"]))
            for m in current
        }
        lines = lines_of(content_like, merged, now)
        changed = []
        for old, new in zip(current, lines, strict=True):
            if (old["status"], old["problem"]) != (new["status"], new["problem"]):
                changed.append(new["name"])
                await queries.update_material(
                    scope,
                    old["id"],
                    status=new["status"],
                    problem=new["problem"],
                    received_at=old["received_at"] or new["received_at"],
                )
        await attach_files(scope, case["tenant_id"], case_id, actor, files or [], now)
        if changed or files:
            case = await act(
                scope,
                case,
                "supplemented",
                actor,
                now=now,
                cal=cal,
                margin=margin,
                data={"materials": changed, "files": len(files or [])},
            )
    return case


async def issue_notice(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    reason: str = "",
    supplement_days: int = DEFAULT_SUPPLEMENT_DAYS,
    now: datetime | None = None,
) -> int:
    """A (further) one-time notice for the case's current problems; returns the document."""
    now = now or utcnow()
    case = await _load(scope, case_id)
    check(scope, case, "notice")
    cal, margin = await clock(scope, case["tenant_id"])
    async with db.write(scope):
        case = await _load(scope, case_id)
        check(scope, case, "notice")
        lines = await queries.materials(scope, case_id)
        return await papers.notice(
            scope, case, actor, now, cal, margin, lines, supplement_days, reason
        )


async def accept(
    scope: TenantScope, case_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Accept a case whose materials are complete (受理)."""
    now = now or utcnow()
    case = await _load(scope, case_id)
    check(scope, case, "accepted")
    cal, margin = await clock(scope, case["tenant_id"])
    async with db.write(scope):
        case = await _load(scope, case_id)
        check(scope, case, "accepted")
        if not complete(await queries.materials(scope, case_id)):
            raise workflow.WorkflowError(
                _("Materials are still missing or defective: record them first, or issue a notice.")
            )
        return await _accept(scope, case, actor, now, cal, margin, note)


async def refuse(
    scope: TenantScope, case_id: int, actor: Actor, reason: str, now: datetime | None = None
) -> int:
    """Do not accept (不予受理): a reason, a numbered refusal notice stating the rights."""
    now = now or utcnow()
    if not reason.strip():
        raise workflow.WorkflowError(
            _("Give the reason the application is not accepted."), "reason"
        )
    case = await _load(scope, case_id)
    check(scope, case, "refused")
    cal, margin = await clock(scope, case["tenant_id"])
    async with db.write(scope):
        case = await _load(scope, case_id)
        check(scope, case, "refused")
        year = local_year(now)
        seq = await queries.next_number(scope, case["tenant_id"], "refusal", year)
        number = document_number(case["tenant_slug"], "refusal", year, seq)
        doc_id = await queries.insert_document(
            scope,
            tenant=case["tenant_id"],
            case=case_id,
            kind="refusal",
            number=number,
            body={
                "centre": case["tenant_name"],
                "item": case["item_name"],
                "case_number": case["number"],
                "applicant": case["applicant_name"],
                "reason": reason.strip(),
                "legal_basis": REFUSAL_BASIS,
                "rights": RIGHTS,
                "clerk": actor.name,
            },
            issued_by=actor.id,
            issued_by_name=actor.name,
            issued_at=now,
            reason=reason.strip(),
        )
        await act(
            scope,
            case,
            "refused",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=reason.strip(),
            data={"document": doc_id, "number": number},
            columns={"closed_reason": reason.strip()},
        )
        return doc_id
