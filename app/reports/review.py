"""Reviewing monthly reports: approve or return (with a reason), in order — a regiment
approves its communities' reports first, then the division — and lock exceptions.

Reviews are written by supervisors of the centre (``report.review``): the submission and
its history are casework rows, the exception a supervisory one.  A return takes the
report's numbers out of the roll-up until it is submitted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app import db
from app.accounts import audit
from app.reports import notices, periods
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as queries
from app.tenancy.scope import TenantScope, Tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _

MAX_REASON = 1000


class ReviewError(Exception):
    def __init__(self, message: str, field: str = "reason") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Stage:
    """Who acts next on a submission (``tenant_id``), and whether ``scope`` is that one."""

    tenant_id: int | None  # None: nothing to review (draft, returned, approved)
    level: int  # 0 = first reviewer
    of: int  # how many levels this centre has
    mine: bool


def stage(tree: Tree, scope: TenantScope, submission: dict[str, Any], owner_id: int) -> Stage:
    """The reviewer due to act; ``mine`` only for a member of that tenant (a division
    supervisor looking at a regiment's pages does not approve in the regiment's place)."""
    chain = periods.reviewers(tree, submission["tenant_id"], owner_id)
    status = submission["status"]
    if status == "submitted":
        level = 0
    elif status == "endorsed":
        level = min(1, len(chain) - 1)
    else:
        return Stage(None, 0, len(chain), False)
    tenant_id = chain[level]
    mine = (
        scope.tenant_id == tenant_id
        and scope.tenant_id in scope.write_ids  # a member there, not an ancestor's supervisor
        and scope.can("report.review")
        and submission["tenant_id"] in scope.supervise_ids
    )
    return Stage(tenant_id, level, len(chain), mine)


def can_return(tree: Tree, scope: TenantScope, submission: dict[str, Any], owner_id: int) -> bool:
    """Any reviewer in the chain may return a report that waits for review."""
    if submission["status"] not in ("submitted", "endorsed"):
        return False
    chain = periods.reviewers(tree, submission["tenant_id"], owner_id)
    return (
        scope.tenant_id in chain
        and scope.tenant_id in scope.write_ids
        and scope.can("report.review")
        and submission["tenant_id"] in scope.supervise_ids
    )


async def _load(scope: TenantScope, submission_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    submission = await queries.submission(scope, submission_id)
    if submission is None:
        raise NotFound()
    form = await form_queries.form(scope, submission["form_id"])
    if form is None:
        raise NotFound()
    return submission, form


async def decide(
    request: Any,
    tree: Tree,
    scope: TenantScope,
    submission_id: int,
    decision: str,
    reason: str,
    *,
    actor_name: str = "",
    lock_version: int | None = None,
    now: datetime | None = None,
) -> str:
    """``approve`` or ``return`` a submission; returns its new status."""
    now = now or datetime.now(UTC)
    reason = (reason or "").strip()
    if decision not in ("approve", "return"):
        raise ReviewError(_("Choose approve or return."), "decision")
    if len(reason) > MAX_REASON:
        raise ReviewError(_("At most %(n)s characters", n=MAX_REASON))
    submission, form = await _load(scope, submission_id)
    if submission["tenant_id"] not in scope.supervise_ids or not scope.can("report.review"):
        raise NotFound()
    owner_id = form["tenant_id"]
    if decision == "return":
        if not can_return(tree, scope, submission, owner_id):
            raise ReviewError(_("This report is not waiting for your review."), "decision")
        if not reason:
            raise ReviewError(_("Say what must be fixed: the centre sees this reason."))
        status = "returned"
    else:
        current = stage(tree, scope, submission, owner_id)
        if not current.mine:
            if current.tenant_id is not None and current.tenant_id != scope.tenant_id:
                name = tree.nodes[current.tenant_id].name
                raise ReviewError(
                    _("This report first needs the approval of %(name)s.", name=name), "decision"
                )
            raise ReviewError(_("This report is not waiting for your review."), "decision")
        status = "approved" if current.level == current.of - 1 else "endorsed"
    action = {"returned": "returned", "endorsed": "endorsed", "approved": "approved"}[status]
    centre = tree.nodes[submission["tenant_id"]]
    label = periods.month_label(submission["month"])
    async with db.write(scope):
        await queries.update_submission(
            scope,
            submission,
            lock_version,
            status=status,
            reviewed_at=now,
            return_reason=reason if status == "returned" else submission["return_reason"],
        )
        if status == "returned":
            await queries.uncount_values(scope, submission)
        await queries.insert_event(
            scope,
            submission["tenant_id"],
            submission=submission["id"],
            at=now,
            actor=scope.user_id,
            actor_name=actor_name[:64],
            action=action,
            revision=submission["revision"],
            note=reason,
        )
        await audit.record(
            request,
            f"report.{action}",
            tenant_id=submission["tenant_id"],
            object_type="report_submission",
            object_id=submission["id"],
            reason=reason,
        )
    link = f"/t/{centre.slug}/reports/{submission['period_id']}"
    if status == "returned":
        title = _("Monthly report %(month)s was returned", month=label)
    elif status == "approved":
        title = _("Monthly report %(month)s was approved", month=label)
    else:
        title = _(
            "Monthly report %(month)s was approved by %(name)s",
            month=label,
            name=tree.nodes[scope.own()].name,
        )
    await notices.tell_managers(tree, submission["tenant_id"], title, body=reason, link=link)
    return status


async def grant_exception(
    request: Any,
    tree: Tree,
    scope: TenantScope,
    period_id: int,
    tenant_id: int,
    reason: str,
    until: date | None,
    *,
    now: datetime | None = None,
) -> int:
    """Let one centre file or change a locked period until ``until`` (the division)."""
    now = now or datetime.now(UTC)
    reason = (reason or "").strip()
    period = await period_queries.period(scope, period_id)
    if period is None or tenant_id not in scope.supervise_ids:
        raise NotFound()
    if not scope.can("report.review") or scope.tenant_id != period["tenant_id"]:
        raise ReviewError(_("Only the division that owns the form grants exceptions."), "reason")
    if not reason:
        raise ReviewError(_("Give the reason for the exception."))
    if len(reason) > MAX_REASON:
        raise ReviewError(_("At most %(n)s characters", n=MAX_REASON))
    today = periods.local_today(now)
    if until is None:
        raise ReviewError(_("Give the last day the centre may file."), "until")
    if until < today:
        raise ReviewError(_("The end date cannot be in the past."), "until")
    if (until - today).days > 92:
        raise ReviewError(_("An exception may last at most three months."), "until")
    centre = tree.nodes.get(tenant_id)
    if centre is None:
        raise NotFound()
    async with db.write(scope):
        exception_id = await period_queries.insert_exception(
            scope,
            tenant_id,
            period=period_id,
            reason=reason,
            until=until,
            granted_by=scope.user_id,
            granted_at=now,
        )
        await audit.record(
            request,
            "report.exception",
            tenant_id=tenant_id,
            object_type="report_period",
            object_id=period_id,
            until=until.isoformat(),
            reason=reason,
        )
    await notices.tell_managers(
        tree,
        tenant_id,
        _(
            "You may file the %(month)s report until %(until)s",
            month=periods.month_label(period["month"]),
            until=until.isoformat(),
        ),
        body=reason,
        link=f"/t/{centre.slug}/reports/{period_id}",
    )
    return exception_id
