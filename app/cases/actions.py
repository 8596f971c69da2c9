"""Workflow actions after acceptance: review, joint sign-off, decision (with the seal
ledger), return, pause and resume, extension, delivery, hand-over and flags.

Each function loads the case, checks the action (capability, tenant, state) before and
again inside the write transaction, and applies it through :func:`timeline.act`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.calendar.workdays import SHANGHAI
from app.cases import deadlines, workflow
from app.cases.decision import decide as decide  # re-exported: the decision step
from app.cases.queries import core as queries
from app.cases.steps import load as _load
from app.cases.steps import required as _required
from app.cases.steps import run as _run
from app.cases.timeline import Actor, act, check, clock, utcnow
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _

WorkflowError = workflow.WorkflowError


# --- review and joint sign-off ----------------------------------------------------------------


async def start_review(
    scope: TenantScope, case_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> dict[str, Any]:
    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        return await act(scope, case, "review", actor, now=now, cal=cal, margin=margin, note=note)

    return await _run(scope, case_id, "review", now, body)


async def joint_departments(scope: TenantScope, case: dict[str, Any]) -> list[str]:
    """Department codes that must sign a joint case (from its version snapshot)."""
    version = await templates.version(scope, case["version_id"])
    if version is None:
        return []
    return list(version["content"].get("joint_departments", []))


def signatures(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Department code → the sign-off event that covers it."""
    return {e["data"]["department"]: e for e in events if e["action"] == "signed"}


async def my_departments(scope: TenantScope, tenant_id: int, user_id: int | None) -> set[str]:
    """Codes of the departments the user belongs to at ``tenant_id`` (for 联办 sign-off)."""
    if user_id is None:
        return set()
    member = await accounts.membership_of(scope, tenant_id, user_id)
    if member is None:
        return set()
    ids = set(await accounts.member_department_ids(scope, member["id"]))
    return {d["code"] for d in await tenancy.departments(scope) if d["id"] in ids}


async def sign(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    department: str,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A member of a listed department signs a joint case off (联办会签)."""

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        needed = await joint_departments(scope, case)
        if case["kind"] != "joint" or department not in needed:
            raise WorkflowError(_("This department does not sign this case."), "department")
        acting_at = scope.tenant_id or case["tenant_id"]
        if department not in await my_departments(scope, acting_at, actor.id):
            raise WorkflowError(
                _("Only a member of that department can sign it off."), "department"
            )
        if department in signatures(await queries.events(scope, case["id"])):
            raise WorkflowError(_("That department has already signed."), "department")
        return await act(
            scope,
            case,
            "signed",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=note.strip(),
            data={"department": department},
        )

    return await _run(scope, case_id, "signed", now, body)


async def submit(
    scope: TenantScope, case_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Review done: to the decision step (a joint case needs every department's sign-off)."""

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        if case["kind"] == "joint":
            signed = signatures(await queries.events(scope, case["id"]))
            missing = [d for d in await joint_departments(scope, case) if d not in signed]
            if missing:
                names = {d["code"]: d["short_name"] for d in await tenancy.departments(scope)}
                raise WorkflowError(
                    _(
                        "Still waiting for the sign-off of: %(departments)s",
                        departments="、".join(names.get(d, d) for d in missing),
                    )
                )
        return await act(
            scope, case, "submitted", actor, now=now, cal=cal, margin=margin, note=note
        )

    return await _run(scope, case_id, "submitted", now, body)


# --- return, pause, extension ----------------------------------------------------------------


async def return_case(
    scope: TenantScope, case_id: int, actor: Actor, reason: str, now: datetime | None = None
) -> dict[str, Any]:
    """Return the application (退回) with the reason the applicant sees."""
    reason = _required(reason, _("A return needs its reason."), "reason")

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        return await act(
            scope,
            case,
            "returned",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=reason,
            columns={"closed_reason": reason, "queue_tenant": case["tenant_id"]},
        )

    return await _run(scope, case_id, "returned", now, body)


async def pause(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    reason: str,
    note: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Stop the clock for time the law excludes (Art. 45); the applicant sees the reason."""
    if reason not in workflow.PAUSE_REASONS:
        raise WorkflowError(_("Choose why the clock stops."), "reason")
    note = _required(note, _("Describe the pause for the applicant."), "note")

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        if case["paused"]:
            raise WorkflowError(_("The clock is already stopped."))
        return await act(
            scope,
            case,
            "paused",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=note,
            data={"reason": reason},
        )

    return await _run(scope, case_id, "paused", now, body)


async def resume(
    scope: TenantScope, case_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> dict[str, Any]:
    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        if not case["paused"]:
            raise WorkflowError(_("The clock is not stopped."))
        return await act(scope, case, "resumed", actor, now=now, cal=cal, margin=margin, note=note)

    return await _run(scope, case_id, "resumed", now, body)


async def extend(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    days: int,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An approved extension (Art. 42): once, at most 10 working days (15 for joint)."""
    reason = _required(reason, _("An extension states its reason."), "reason")

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        cap = deadlines.extension_cap(case["kind"])
        if case["extended_halves"]:
            raise WorkflowError(_("The time limit has already been extended once."), "days")
        if not 1 <= days * 2 <= cap:
            raise WorkflowError(
                _("An extension is 1 to %(days)d working days.", days=cap // 2), "days"
            )
        return await act(
            scope,
            case,
            "extended",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=reason,
            data={"halves": days * 2, "approver": actor.name},
        )

    return await _run(scope, case_id, "extended", now, body)


# --- delivery, hand-over, flags --------------------------------------------------------------


async def deliver(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    method: str,
    delivered_on: date,
    recipient: str,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record delivery (送达): method, date, recipient and who handed it over."""
    if method not in workflow.DELIVERY_METHODS:
        raise WorkflowError(_("Choose how the result was delivered."), "method")
    recipient = _required(recipient, _("Enter who received it."), "recipient")

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        if delivered_on > now.astimezone(SHANGHAI).date():
            raise WorkflowError(_("The delivery date cannot be in the future."), "delivered_on")
        if case["concluded_at"] and delivered_on < case["concluded_at"].astimezone(SHANGHAI).date():
            raise WorkflowError(
                _("The delivery date cannot be before the conclusion."), "delivered_on"
            )
        return await act(
            scope,
            case,
            "delivered",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            note=note.strip(),
            data={"method": method, "on": delivered_on.isoformat(), "recipient": recipient},
            columns={
                "delivered_at": now,
                "delivery_method": method,
                "delivery_recipient": recipient,
                "delivery_note": note.strip(),
                "delivered_by": actor.id,
            },
        )

    return await _run(scope, case_id, "delivered", now, body)


async def hand_over(
    scope: TenantScope,
    case_ids: list[int],
    actor: Actor,
    to_user_id: int,
    note: str = "",
    now: datetime | None = None,
) -> int:
    """A manager hands a leaving clerk's cases to another member; returns how many moved."""
    scope.require("case.handover")
    tenant_id = scope.own()
    member = await accounts.membership_of(scope, tenant_id, to_user_id)
    if member is None or not member["active"]:
        raise WorkflowError(_("Choose an active member of this centre."), "to_user")
    target = await accounts.user_by_id(to_user_id)
    assert target is not None
    now = now or utcnow()
    moved = 0
    cal, margin = await clock(scope, tenant_id)
    async with db.write(scope):
        for case_id in case_ids:
            case = await _load(scope, case_id)
            check(scope, case, "handed_over")
            if case["owner_id"] == to_user_id:
                continue
            await act(
                scope,
                case,
                "handed_over",
                actor,
                now=now,
                cal=cal,
                margin=margin,
                note=note.strip(),
                data={
                    "from": case["owner_id"],
                    "from_name": case["owner_name"],
                    "to": to_user_id,
                    "to_name": target.display_name,
                },
                columns={"owner": to_user_id},
            )
            moved += 1
        await audit.record(
            None,
            "case.handed_over",
            tenant_id=tenant_id,
            actor_id=actor.id,
            actor_name=actor.name,
            object_type="user",
            object_id=to_user_id,
            cases=moved,
        )
    return moved


async def set_flags(
    scope: TenantScope,
    case_id: int,
    actor: Actor,
    urgent: bool,
    green_channel: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Mark a case urgent (急办, sorted first) or on the green channel for key projects."""

    async def body(case: dict[str, Any], now: datetime, cal: Any, margin: int) -> Any:
        if (case["urgent"], case["green_channel"]) == (urgent, green_channel):
            return case
        return await act(
            scope,
            case,
            "flagged",
            actor,
            now=now,
            cal=cal,
            margin=margin,
            data={"urgent": urgent, "green_channel": green_channel},
            columns={"urgent": urgent, "green_channel": green_channel},
        )

    return await _run(scope, case_id, "flagged", now, body)
