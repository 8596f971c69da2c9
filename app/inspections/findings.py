"""Submitting an inspection: the score is computed and stored, every finding becomes a
Finding row and a rectification-ledger item (source ``finding``) owned by the centre's
first manager — all in one transaction; the managers are told after the commit.

Submitting again (the phone resent it) creates nothing and answers like the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.cases import ledger
from app.inspections import inspections as service
from app.inspections import scoring
from app.inspections.notices import tell_managers
from app.inspections.queries import inspections as queries
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import gettext as _
from app.web.i18n import join_list

MAX_FINDINGS = 30
TEXT_MAX = 1000
DEFAULT_DAYS = 5
MAX_DAYS = 60
SUMMARY_MAX = 4000


@dataclass
class FindingInput:
    text: str
    item_key: str = ""
    due_days: int = DEFAULT_DAYS


@dataclass
class Submitted:
    created: bool
    findings: int


class SubmitRefused(service.InspectionError):
    """Refused with a list of problems (e.g. the items that still need a photo)."""


def check_findings(loaded: service.Loaded, findings: list[FindingInput]) -> dict[int, str]:
    """Errors by the finding's row index."""
    keys = scoring.item_keys(loaded.definition)
    errors: dict[int, str] = {}
    for i, f in enumerate(findings):
        if not f.text.strip():
            errors[i] = _("Describe the finding.")
        elif len(f.text) > TEXT_MAX:
            errors[i] = _("At most %(n)d characters.", n=TEXT_MAX)
        elif f.item_key and f.item_key not in keys:
            errors[i] = _("Choose a checklist item of this checklist.")
        elif not 1 <= f.due_days <= MAX_DAYS:
            errors[i] = _("The rectification period is 1 to %(n)d working days.", n=MAX_DAYS)
    if len(findings) > MAX_FINDINGS:
        errors[MAX_FINDINGS] = _("At most %(n)d findings.", n=MAX_FINDINGS)
    return errors


def missing_photo_message(loaded: service.Loaded, photo_keys: set[str]) -> str:
    missing = scoring.missing_photos(loaded.definition, photo_keys)
    if not missing:
        return ""
    names = join_list([f"{i.key} {i.text}" for i in missing])
    return _("These checklist items need a photo before submitting: %(items)s", items=names)


async def submit(
    request: Request | None,
    scope: TenantScope,
    tree: Tree,
    inspection_id: int,
    findings: list[FindingInput],
    *,
    summary: str = "",
    lock_version: int | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Submit the inspection with its findings (idempotent once submitted)."""
    now = now or service.utcnow()
    loaded = await service.load_for_conduct(scope, inspection_id)
    if loaded.state in service.DONE_STATES:
        return Submitted(False, await queries.count_findings(scope, inspection_id))
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise service.InspectionError(_("At most %(n)d characters.", n=SUMMARY_MAX), "summary")
    errors = check_findings(loaded, findings)
    if errors:
        raise service.InspectionError(next(iter(errors.values())), "findings")
    writer = service.acting(scope, loaded.tenant_id)
    title_of = {i.key: i.text for i in loaded.definition.items()}
    async with db.write(writer):
        loaded = await service.load_for_conduct(writer, inspection_id)
        if loaded.state in service.DONE_STATES:
            return Submitted(False, await queries.count_findings(writer, inspection_id))
        if lock_version is not None and lock_version != int(loaded.row["lock_version"]):
            raise service.Conflict(
                _(
                    "Someone saved this inspection from another device in the meantime. "
                    "Check the answers, then submit again."
                ),
                int(loaded.row["lock_version"]),
            )
        photos = await queries.photos(writer, inspection_id)
        message = missing_photo_message(loaded, {p["item_key"] for p in photos})
        if message:
            raise SubmitRefused(message, "photos")
        totals = scoring.totals(loaded.definition, loaded.answers)
        done = await queries.update_inspection(
            writer,
            inspection_id,
            loaded.tenant_id,
            {
                "state": "submitted",
                "score": totals.score,
                "max_score": totals.max_score,
                "percent": totals.percent,
                "summary": summary,
                "submitted_at": now,
                "submitted_by": scope.user_id,
                "started_at": loaded.row["started_at"] or now,
                "lock_version": int(loaded.row["lock_version"]) + 1,
                "updated_at": now,
            },
            states=service.OPEN_STATES,
        )
        if not done:
            return Submitted(False, await queries.count_findings(writer, inspection_id))
        owners = await ledger.managers(writer, loaded.tenant_id)
        owner_id = owners[0]["user_id"] if owners else None
        for position, f in enumerate(findings, start=1):
            finding_id = await queries.insert_finding(
                writer,
                loaded.tenant_id,
                inspection=inspection_id,
                position=position,
                item_key=f.item_key,
                text=f.text.strip(),
                due_days=f.due_days,
                created_at=now,
            )
            due_at = await ledger.due_in(writer, loaded.tenant_id, now, f.due_days * 2)
            about = title_of.get(f.item_key, "")
            detail = f.text.strip() if not about else f"{about}\n{f.text.strip()}"
            item_id = await ledger.open_item(
                writer,
                loaded.tenant_id,
                "finding",
                finding_id,
                None,
                _("Inspection finding: %(text)s", text=f.text.strip()),
                detail,
                owner_id,
                due_at,
                now=now,
                request=request,
            )
            await queries.link_finding(writer, loaded.tenant_id, finding_id, item_id)
        await audit.record(
            request,
            "inspection.submitted",
            tenant_id=loaded.tenant_id,
            object_type="inspection",
            object_id=inspection_id,
            score=str(totals.score),
            max_score=str(totals.max_score),
            findings=len(findings),
        )
    node = tree.nodes.get(loaded.tenant_id)
    if node is not None:
        await tell_managers(
            tree,
            loaded.tenant_id,
            _("Inspection result: %(percent)s%%", percent=totals.percent),
            body=_(
                "%(checklist)s: %(score)s of %(max)s, %(n)d findings to rectify.",
                checklist=loaded.row["checklist_title"],
                score=totals.score,
                max=totals.max_score,
                n=len(findings),
            ),
            link=f"/t/{node.slug}/inspections/{inspection_id}",
        )
    return Submitted(True, len(findings))
