"""Material lines at the window: their statuses, the checks on them, and the applicant's ID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.cases import identity, workflow
from app.cases.papers import problems
from app.web.i18n import gettext as _

MATERIAL_STATUSES = ("received", "missing", "defective", "waived")


@dataclass
class MaterialCheck:
    status: str = "missing"  # received | missing | defective | waived (conditional only)
    problem: str = ""


def check_identity(kind: str, applicant_kind: str, id_number: str) -> str:
    """The normalised ID, or WorkflowError on the ``id_number`` field."""
    value = identity.normalise(id_number)
    if applicant_kind == "person":
        if not identity.is_resident_id(value):
            raise workflow.WorkflowError(
                _("This is not a valid resident ID number: check the 18 characters."),
                "id_number",
            )
        return value
    if not identity.is_credit_code(value):
        raise workflow.WorkflowError(
            _("This is not a valid unified social credit code: check the 18 characters."),
            "id_number",
        )
    return value


def complete(lines: list[dict[str, Any]]) -> bool:
    return not problems(lines)


def lines_of(
    content: dict[str, Any], checks: dict[int, MaterialCheck], now: datetime
) -> list[dict[str, Any]]:
    lines = []
    for position, material in enumerate(content.get("materials", [])):
        chk = checks.get(position, MaterialCheck())
        status = chk.status if chk.status in MATERIAL_STATUSES else "missing"
        if status == "waived" and material.get("requirement") != "conditional":
            raise workflow.WorkflowError(
                _(
                    "“%(name)s” is required: it cannot be marked not applicable.",
                    name=material["name"],
                ),
                f"material_{position}",
            )
        if status == "defective" and not chk.problem.strip():
            raise workflow.WorkflowError(
                _("Say what is wrong with “%(name)s”.", name=material["name"]),
                f"material_{position}",
            )
        lines.append(
            {
                "position": position,
                "name": material["name"],
                "requirement": material.get("requirement", "required"),
                "status": status,
                "problem": chk.problem.strip() if status == "defective" else "",
                "received_at": now if status == "received" else None,
            }
        )
    return lines
