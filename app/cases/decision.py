"""The decision (审批): a numbered approval or denial, stamped with a seal that the seal
ledger records, concluding the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.cases import workflow
from app.cases.papers import RIGHTS, document_number, local_year
from app.cases.queries import core as queries
from app.cases.queries import seals as seal_queries
from app.cases.steps import required as _required
from app.cases.steps import run as _run
from app.cases.timeline import Actor, act
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _

WorkflowError = workflow.WorkflowError


async def decide(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    decision: str,
    seal_id: int | None,
    reason: str = "",
    now: datetime | None = None,
) -> int:
    """Approve (准予) or deny (不予) with a numbered decision document, stamped with one of
    the deciding tenant's seals (recorded in its seal ledger); concludes the case."""
    if decision not in workflow.DECISIONS:
        raise WorkflowError(_("Choose approve or deny."), "decision")
    if decision == "denied":
        reason = _required(reason, _("A denial states its reason."), "reason")

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> int:
        stamping = scope.own()  # the tenant whose seal goes on the paper
        seal = await seal_queries.seal(scope, stamping, seal_id) if seal_id else None
        if seal is None or not seal["active"]:
            raise WorkflowError(_("Choose the seal used on the decision."), "seal")
        kind = "approval" if decision == "approved" else "denial"
        year = local_year(now)
        # Numbered by the deciding tenant (the parent, for an escalated case).
        seq = await queries.next_number(scope, stamping, kind, year)
        tree = await tenancy.tree()
        number = document_number(tree.nodes[stamping].slug, kind, year, seq)
        version = await templates.version(scope, case["version_id"])
        content = version["content"] if version else {}
        doc_id = await queries.insert_document(
            scope,
            tenant=case["tenant_id"],
            case=case["id"],
            kind=kind,
            number=number,
            body={
                "centre": case["tenant_name"],
                "item": case["item_name"],
                "case_number": case["number"],
                "applicant": case["applicant_name"],
                "decision": decision,
                "reason": reason.strip(),
                "result_document": content.get("result_document", ""),
                "legal_basis": content.get("legal_basis", ""),
                "implementing_body": content.get("implementing_body", ""),
                "rights": RIGHTS if decision == "denied" else "",
                "seal": seal["name"],
                "decided_by": actor.name,
            },
            issued_by=actor.id,
            issued_by_name=actor.name,
            issued_at=now,
            reason=reason.strip(),
        )
        await seal_queries.insert_usage(
            scope,
            tenant=stamping,
            seal=seal["id"],
            case=case["id"],
            document=doc_id,
            used_by=actor.id,
            used_by_name=actor.name,
            used_at=now,
        )
        case = await act(
            scope,
            case,
            "decided",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=reason.strip(),
            data={"decision": decision, "document": doc_id, "number": number, "seal": seal["id"]},
            columns={"decision": decision, "closed_reason": reason.strip()},
        )
        await act(
            scope,
            case,
            "concluded",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            state="concluded",
            columns={"concluded_at": now, "queue_tenant": case["tenant_id"]},
        )
        return doc_id

    return await _run(scope, case_id, "decided", now, body)
