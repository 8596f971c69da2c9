"""What the case page shows: facts, materials with files, documents, timeline, and the action
forms the viewer may use (decided by :func:`app.cases.timeline.check`)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException

from app.cases import actions, deadlines, identity, workflow
from app.cases import desk_forms as forms
from app.cases.papers import problems
from app.cases.queries import core as queries
from app.cases.queries import desk as desk_queries
from app.cases.queries import seals as seal_queries
from app.cases.timeline import check
from app.catalogue.content import KINDS, halves_text
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.forms import Form
from app.web.i18n import gettext as _
from app.web.i18n import join_list
from app.web.i18n import lazy_gettext as _l

DOCUMENT_KINDS = {
    "notice": _l("One-time notice (一次性告知书)"),
    "refusal": _l("Notice of non-acceptance (不予受理通知书)"),
    "approval": _l("Approval decision (准予决定书)"),
    "denial": _l("Denial decision (不予决定书)"),
}
# The order the action forms appear in on the page.
ORDER = (
    "supplement",
    "notice",
    "accept",
    "refuse",
    "review",
    "sign",
    "submit",
    "decide",
    "pause",
    "resume",
    "extend",
    "deliver",
    "return",
    "flags",
)
LABELS = {
    "supplement": _l("Record supplemented materials"),
    "notice": _l("Issue another one-time notice"),
    "accept": _l("Accept"),
    "refuse": _l("Do not accept"),
    "review": _l("Start review"),
    "sign": _l("Joint sign-off"),
    "submit": _l("Submit for decision"),
    "decide": _l("Decide"),
    "pause": _l("Pause the clock"),
    "resume": _l("Resume the clock"),
    "extend": _l("Extend the time limit"),
    "deliver": _l("Record delivery"),
    "return": _l("Return the application"),
    "flags": _l("Urgent and green-channel flags"),
}


def may(scope: TenantScope, case: dict[str, Any], name: str) -> bool:
    """Whether ``check`` lets the scope take workflow action ``name`` now."""
    try:
        check(scope, case, name)
    except (HTTPException, workflow.WorkflowError):
        return False
    return True


def applicant(case: dict[str, Any], unmasked: bool) -> dict[str, Any]:
    """The applicant block: masked unless ``unmasked`` (an audited read)."""
    person = case["applicant_kind"] == "person"
    if unmasked:
        return {
            "name": case["applicant_name"],
            "id_number": case["id_number"],
            "phone": case["phone"],
            "address": case["contact_address"],
            "unmasked": True,
        }
    return {
        "name": identity.mask_name(case["applicant_name"]) if person else case["applicant_name"],
        "id_number": identity.mask_id(case["id_number"]),
        "phone": identity.mask_phone(case["phone"]),
        "address": "",
        "unmasked": False,
    }


def event_detail(event: dict[str, Any], departments: dict[str, str]) -> str:
    """A short description of what an event's data records (shown under its label)."""
    data = event.get("data") or {}
    action = event["action"]
    if action == "registered":
        channel = workflow.CHANNELS.get(data.get("channel", ""), "")
        return _(
            "Version %(number)s · %(channel)s", number=data.get("version", "?"), channel=channel
        )
    if action in ("notice", "refused") and data.get("number"):
        return str(data["number"])
    if action == "paused":
        return str(workflow.PAUSE_REASONS.get(data.get("reason", ""), ""))
    if action == "extended":
        return _(
            "%(limit)s, approved by %(name)s",
            limit=halves_text(int(data.get("halves", 0))),
            name=data.get("approver", ""),
        )
    if action == "signed":
        code = data.get("department", "")
        return departments.get(code, code)
    if action == "decided":
        return f"{workflow.DECISIONS.get(data.get('decision', ''), '')} {data.get('number', '')}"
    if action == "delivered":
        method = workflow.DELIVERY_METHODS.get(data.get("method", ""), "")
        return _(
            "%(method)s on %(date)s, received by %(recipient)s",
            method=method,
            date=data.get("on", ""),
            recipient=data.get("recipient", ""),
        )
    if action == "handed_over":
        return _(
            "From %(old)s to %(new)s", old=data.get("from_name", ""), new=data.get("to_name", "")
        )
    if action == "supplemented" and data.get("materials"):
        return join_list(data["materials"])
    if action == "flagged":
        flags = []
        if data.get("urgent"):
            flags.append(_("urgent"))
        if data.get("green_channel"):
            flags.append(_("green channel"))
        return join_list(flags) if flags else _("no flags")
    return ""


def _forms(case: dict[str, Any], allowed: list[str]) -> dict[str, Form]:
    out: dict[str, Form] = {}
    for name in allowed:
        _action, cls = forms.ACTION_FORMS[name]
        form = cls(prefix=name)
        if name == "flags":
            form.urgent.data = case["urgent"]  # type: ignore[attr-defined]
            form.green_channel.data = case["green_channel"]  # type: ignore[attr-defined]
        out[name] = form
    return out


async def context(
    scope: TenantScope,
    case: dict[str, Any],
    *,
    unmasked: bool = False,
    posted: tuple[str, Form] | None = None,
    error: tuple[str, str] | None = None,
    lines: list[dict[str, Any]] | None = None,
    done: str = "",
) -> dict[str, Any]:
    """Everything ``cases/case.html`` renders.  ``posted`` keeps the submitted form (with its
    errors); ``error`` is (action, message) for a message that belongs to no field."""
    case_id = case["id"]
    materials = await queries.materials(scope, case_id)
    files = await desk_queries.files(scope, case_id)
    documents = await queries.documents(scope, case_id)
    events = await queries.events(scope, case_id)
    departments = {d["code"]: d["short_name"] for d in await tenancy.departments(scope)}
    for m in materials:
        m["files"] = [f for f in files if f["material_id"] == m["id"]]
    loose = [f for f in files if f["material_id"] is None]

    allowed = [name for name in ORDER if may(scope, case, forms.ACTION_FORMS[name][0])]
    signatures = actions.signatures(events)
    joint: list[dict[str, Any]] = []
    if case["kind"] == "joint":
        for code in await actions.joint_departments(scope, case):
            event = signatures.get(code)
            joint.append(
                {
                    "code": code,
                    "name": departments.get(code, code),
                    "signed_by": event["actor_name"] if event else "",
                    "signed_at": event["at"] if event else None,
                }
            )
    unsigned = [j for j in joint if not j["signed_by"]]
    missing = problems(materials)

    def keep(name: str) -> bool:
        if name == "pause":
            return not case["paused"]
        if name == "resume":
            return bool(case["paused"])
        if name == "extend":
            return not case["extended_halves"]
        if name == "sign":
            return bool(unsigned)
        if name == "notice":
            return bool(missing)
        return True

    allowed = [name for name in allowed if keep(name)]
    action_forms = _forms(case, allowed)
    if posted is not None:
        action_forms[posted[0]] = posted[1]
    if "sign" in action_forms:
        action_forms["sign"].department.choices = [  # type: ignore[attr-defined]
            (j["code"], j["name"]) for j in unsigned
        ]
    seals: list[dict[str, Any]] = []
    if "decide" in action_forms:
        seals = [s for s in await seal_queries.seals(scope, scope.own()) if s["active"]]
        action_forms["decide"].set_seals(seals)  # type: ignore[attr-defined]
    current = {m["position"]: m for m in materials}
    supplement_lines = (
        lines if lines is not None else forms.material_lines(materials, None, current)
    )
    pause = next((e for e in reversed(events) if e["action"] == "paused"), None)
    notices = [d for d in documents if d["kind"] == "notice"]
    return {
        "case": case,
        "kinds": KINDS,
        "states": workflow.STATES,
        "lights": workflow.LIGHTS,
        "channels": workflow.CHANNELS,
        "labels": workflow.EVENT_LABELS,
        "pause_reasons": workflow.PAUSE_REASONS,
        "delivery_methods": workflow.DELIVERY_METHODS,
        "decisions": workflow.DECISIONS,
        "applicant_kinds": workflow.APPLICANT_KINDS,
        "id_kinds": workflow.ID_KINDS,
        "document_kinds": DOCUMENT_KINDS,
        "statuses": forms.MATERIAL_STATUSES,
        "file_accept": forms.FILE_ACCEPT,
        "applicant": applicant(case, unmasked),
        "materials": materials,
        "loose_files": loose,
        "documents": documents,
        "latest_notice": notices[-1] if notices else None,
        "events": [
            {
                **e,
                "label": workflow.EVENT_LABELS.get(e["action"], e["action"]),
                "detail": event_detail(e, departments),
            }
            for e in events
        ],
        "joint": joint,
        "pause_reason": (
            workflow.PAUSE_REASONS.get((pause["data"] or {}).get("reason", ""), "")
            if case["paused"] and pause
            else ""
        ),
        "pause_note": pause["note"] if case["paused"] and pause else "",
        "forms": action_forms,
        "form_labels": LABELS,
        "order": [name for name in ORDER if name in action_forms],
        "errors": dict([error]) if error else {},
        "open": posted[0] if posted else (error[0] if error else ""),
        "supplement_lines": supplement_lines,
        "seals": seals,
        "extension_days": deadlines.extension_cap(case["kind"]) // 2,
        "done": done,
        "missing_count": len(missing),
        "version_number": next(
            (e["data"].get("version", "") for e in events if e["action"] == "registered"), ""
        ),
    }
