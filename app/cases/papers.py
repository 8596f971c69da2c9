"""Numbers and papers: case and document numbers from the gap-free counters, the legal
texts printed on them, and the one-time notice (一次性告知书, Art. 32) itself."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from app.calendar.workdays import SHANGHAI, TenantCalendar
from app.cases import workflow
from app.cases.queries import core as queries
from app.cases.timeline import Actor, act
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _

NOTICE_BASIS = "《中华人民共和国行政许可法》第三十二条第一款第（四）项"
REFUSAL_BASIS = "《中华人民共和国行政许可法》第三十二条第一款第（二）项、第三十二条第二款"
RIGHTS = (
    "申请人如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
    "或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。"
)
DEFAULT_SUPPLEMENT_DAYS = 5


def prefix(slug: str) -> str:
    return slug.upper()


def case_number(slug: str, year: int, seq: int) -> str:
    return f"{prefix(slug)}-{year}-{seq:06d}"


def document_number(slug: str, kind: str, year: int, seq: int) -> str:
    code = {"notice": "GZ", "refusal": "BSL", "approval": "ZY", "denial": "BY"}[kind]
    return f"{prefix(slug)}-{code}-{year}-{seq:06d}"


def local_year(moment: datetime) -> int:
    return moment.astimezone(SHANGHAI).year


def lookup_code() -> str:
    """Six digits printed on the receipt: with the number it opens the public lookup."""
    return f"{secrets.randbelow(1_000_000):06d}"


def problems(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines a notice must list: every missing or defective material."""
    return [ln for ln in lines if ln["status"] in ("missing", "defective")]


async def notice(
    scope: TenantScope,
    case: dict[str, Any],
    actor: Actor,
    now: datetime,
    cal: TenantCalendar,
    margin: int,
    lines: list[dict[str, Any]],
    supplement_days: int,
    reason: str,
) -> int:
    missing = problems(lines)
    if not missing:
        raise workflow.WorkflowError(_("Every material is in: accept the case instead."))
    if case["notices"] >= 1 and not reason.strip():
        raise workflow.WorkflowError(
            _(
                "A one-time notice has already listed everything missing. A second notice "
                "needs the new fact that makes it necessary."
            ),
            "reason",
        )
    days = max(1, min(int(supplement_days or DEFAULT_SUPPLEMENT_DAYS), 60))
    deadline = cal.due_at(now, days * 2).at.astimezone(SHANGHAI).date()
    version_materials = {m["position"]: m for m in lines}
    year = local_year(now)
    seq = await queries.next_number(scope, case["tenant_id"], "notice", year)
    number = document_number(case["tenant_slug"], "notice", year, seq)
    body = {
        "centre": case["tenant_name"],
        "item": case["item_name"],
        "item_code": case["item_code"],
        "case_number": case["number"],
        "applicant": case["applicant_name"],
        "missing": [
            {
                "position": m["position"],
                "name": m["name"],
                "status": m["status"],
                "problem": m["problem"],
            }
            for m in missing
        ],
        "legal_basis": NOTICE_BASIS,
        "deadline": deadline.isoformat(),
        "supplement_days": days,
        "clerk": actor.name,
        "window": case.get("window_name") or "",
        "second": case["notices"] >= 1,
    }
    assert version_materials  # lines come from the snapshot
    doc_id = await queries.insert_document(
        scope,
        tenant=case["tenant_id"],
        case=case["id"],
        kind="notice",
        number=number,
        body=body,
        issued_by=actor.id,
        issued_by_name=actor.name,
        issued_at=now,
        reason=reason.strip(),
    )
    await act(
        scope,
        case,
        "notice",
        actor,
        now=now,
        cal=cal,
        margin=margin,
        note=reason.strip(),
        data={"document": doc_id, "number": number, "missing": len(missing)},
        columns={"notices": case["notices"] + 1},
    )
    return doc_id
