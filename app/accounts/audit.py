"""Writes to the append-only audit log: who, tenant, action, object, when, address."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.accounts import queries
from app.web.i18n import lazy_gettext as _l


def _ip(request: Request | None) -> str:
    if request is None or request.client is None:
        return ""
    return request.client.host


async def record(
    request: Request | None,
    action: str,
    *,
    tenant_id: int | None = None,
    actor_id: int | None = None,
    actor_name: str = "",
    object_type: str = "",
    object_id: Any = "",
    **detail: Any,
) -> None:
    if request is not None and actor_id is None:
        session = request.scope.get("state", {}).get("session")
        if session is not None and session.user is not None:
            actor_id, actor_name = session.user.id, session.user.username
    await queries.append_audit(
        tenant_id,
        actor_id,
        actor_name,
        action,
        object_type,
        str(object_id),
        detail,
        _ip(request),
    )


OBJECT_LABELS = {
    "checklist": _l("Inspection checklist"),
    "draw": _l("Random draw (双随机)"),
    "user": _l("Account"),
    "membership": _l("Staff member"),
    "tenant": _l("Centre"),
    "manifest": _l("Manifest"),
    "channel": _l("Group robot"),
    "item": _l("Service item"),
    "power_list": _l("Power list"),
    "calendar_day": _l("Calendar day"),
    "calendar_year": _l("Calendar year"),
    "rectification": _l("Rectification item"),
    "seal": _l("Seal"),
    "case": _l("Case"),
    "report_period": _l("Monthly report"),
    "report_submission": _l("Monthly report"),
    "report_form": _l("Report form"),
    "export_job": _l("Export"),
    "supervision_setting": _l("Yellow margin setting"),
    "work_log": _l("Work log"),
    "assessment_scheme": _l("Assessment rules"),
    "circular": _l("Circular"),
    "document": _l("Centre document"),
}

ACTION_LABELS = {
    "checklist.created": _l("Created an inspection checklist"),
    "checklist.versioned": _l("Saved a new version of an inspection checklist"),
    "checklist.retired": _l("Retired an inspection checklist"),
    "checklist.restored": _l("Put an inspection checklist back in use"),
    "draw.created": _l("Made a random draw (双随机)"),
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "login.failed": _l("Failed login"),
    "login.locked": _l("Login refused: locked out"),
    "password.changed": _l("Changed password"),
    "password.set_by_link": _l("Set password by one-time link"),
    "staff.added": _l("Added staff member"),
    "staff.updated": _l("Changed roles or departments"),
    "staff.deactivated": _l("Deactivated staff member"),
    "staff.activated": _l("Activated staff member"),
    "staff.reset_link": _l("Issued set-password link"),
    "staff.unlocked": _l("Unlocked account"),
    "tenant.created": _l("Onboarded centre"),
    "tenant.status": _l("Changed centre status"),
    "manifest.applied": _l("Applied manifests"),
    "admin.bootstrap": _l("Created the first platform admin"),
    "admin.created": _l("Created platform admin"),
    "channel.saved": _l("Changed the group robot"),
    "catalogue.created": _l("Created a service item"),
    "powerlist.published": _l("Published the power list"),
    "catalogue.revised": _l("Published a new version of a service item"),
    "catalogue.retired": _l("Retired a service item"),
    "catalogue.restored": _l("Restored a retired service item"),
    "calendar.national_day.created": _l("Added a national day"),
    "calendar.national_day.updated": _l("Changed a national day"),
    "calendar.national_day.removed": _l("Removed a national day"),
    "calendar.year.published": _l("Published a calendar year"),
    "calendar.year.updated": _l("Changed a calendar year"),
    "calendar.regional_day.created": _l("Added a regional day"),
    "calendar.regional_day.updated": _l("Changed a regional day"),
    "calendar.regional_day.removed": _l("Removed a regional day"),
    "rectification.opened": _l("Opened a rectification item"),
    "rectification.verify": _l("Rectification: verified"),
    "rectification.fix": _l("Rectification: fixed"),
    "rectification.callback": _l("Rectification: called back"),
    "rectification.outcome": _l("Rectification: closed with its outcome"),
    "rectification.extended": _l("Rectification: extended the due date"),
    "rectification.answered": _l("Rectification: answered with evidence"),
    "rectification.evidence": _l("Rectification: added evidence"),
    "rectification.accepted": _l("Rectification: accepted by the inspector"),
    "rectification.rejected": _l("Rectification: rejected by the inspector"),
    "rectification.supervised": _l("Put a case under supervision"),
    "seal.added": _l("Registered a seal"),
    "case.registered": _l("Registered a case"),
    "case.unmasked": _l("Viewed an applicant's personal data in full"),
    "case.handed_over": _l("Handed a clerk's cases over"),
    "seal.retired": _l("Retired a seal"),
    "seal.reactivated": _l("Put a retired seal in use again"),
    "report.submit": _l("Submitted a monthly report"),
    "report.export": _l("Requested a report export"),
    "report_form.retitled": _l("Renamed a report form"),
    "report.approved": _l("Approved a monthly report"),
    "report.endorsed": _l("Approved a monthly report and passed it on to the division"),
    "report.returned": _l("Returned a monthly report"),
    "report.exception": _l("Granted a monthly report exception"),
    "supervision.yellow_days": _l("Changed the yellow margin N"),
    "report_form.created": _l("Created a report form"),
    "report_form.versioned": _l("Saved a new version of a report form"),
    "worklog.written": _l("Wrote a work log"),
    "worklog.updated": _l("Changed a work log"),
    "worklog.reviewed": _l("Reviewed a work log"),
    "assessment.rules_saved": _l("Saved a new version of the assessment rules"),
    "circular.issued": _l("Issued a circular"),
    "circular.acknowledged": _l("Acknowledged a circular"),
    "document.created": _l("Uploaded a centre document"),
    "document.updated": _l("Changed or replaced a centre document"),
    "document.retired": _l("Retired a centre document"),
}
