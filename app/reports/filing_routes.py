"""The centre's monthly report pages (月报).

``GET /t/{slug}/reports`` (``report.view``) lists, for every form the centre files, its
periods newest first with their status; a division (which files none) gets pointers to the
review grid and the roll-up.  ``GET /t/{slug}/reports/{period_id}`` shows the centre's report
for one period — editable while the period's access allows and the user has ``report.fill``,
read-only otherwise; ``POST`` to the same address takes ``action`` = save | submit | copy |
zero | autosave (htmx: a small status fragment with the new ``lock_version`` swapped in out of
band).  Success answers 303 back to the page (``?saved=…``); a refused submission 422 with
everything typed kept; a stale ``lock_version`` 409, the typed values still in the form.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.reports import definition as definitions
from app.reports import filing, periods
from app.reports.definition import Definition
from app.reports.filing_forms import (
    EVENT_LABELS,
    SAVED_NOTICES,
    STATUS_LABELS,
    Posted,
    overdue,
    read_post,
    rule_rows,
    sections,
    status_key,
    timeliness,
)
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.reports.values import Check, check
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.auth import current_user, int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.templating import is_htmx, local_time, render


def _files(tree: Tree, node: TenantNode, owner_id: int, definition: Definition) -> bool:
    """Whether ``node`` files this form version (its kind, under the form's division)."""
    return any(n.id == node.id for n in periods.filers(tree, owner_id, list(definition.filers)))


# --- the list -------------------------------------------------------------------------------


async def _groups(
    scope: TenantScope, tree: Tree, node: TenantNode, now: datetime
) -> list[dict[str, Any]]:
    """Per form the centre files: its periods, newest first, with the centre's status."""
    groups: list[dict[str, Any]] = []
    files: dict[int, bool] = {}  # version id → whether the centre files it
    for form in await form_queries.forms(scope):
        rows: list[dict[str, Any]] = []
        mine: dict[int, dict[str, Any]] | None = None
        granted: dict[int, list[dict[str, Any]]] = {}
        for period in await period_queries.periods(scope, form["id"]):
            version_id = period["version_id"]
            if version_id not in files:
                version = await form_queries.version(scope, version_id)
                definition = definitions.load(version["definition"]) if version else None
                files[version_id] = definition is not None and _files(
                    tree, node, form["tenant_id"], definition
                )
            if not files[version_id]:
                continue
            if mine is None:  # the centre's submissions and exceptions: one query each
                found = await submission_queries.submissions_of(scope, node.id, form["id"])
                mine = {s["period_id"]: s for s in found}
                for e in await period_queries.exceptions_of(scope, node.id, form["id"]):
                    granted.setdefault(e["period_id"], []).append(e)
            submission = mine.get(period["id"])
            status = status_key(submission)
            rows.append(
                {
                    "period": period,
                    "label": periods.month_label(period["month"]),
                    "status": status,
                    "submission": submission,
                    "access": periods.access(
                        period, submission, granted.get(period["id"], []), now
                    ),
                    "overdue": overdue(period, submission, now),
                    "return_reason": (submission or {}).get("return_reason", "")
                    if status == "returned"
                    else "",
                }
            )
        if rows:
            groups.append({"form": form, "rows": rows})
        elif form["retired_at"] is None:  # filed, but no period has opened yet
            current = await form_queries.version_number(scope, form["id"], form["current_version"])
            definition = definitions.load(current["definition"]) if current else None
            if definition is not None and _files(tree, node, form["tenant_id"], definition):
                groups.append({"form": form, "rows": []})
    return groups


async def report_list(request: Request) -> Response:
    scope = tenant_scope(request, "report.view")
    node = tenant_node(request)
    now = datetime.now(UTC)
    groups = await _groups(scope, tenant_tree(request), node, now)
    return await render(
        request,
        "reports/list.html",
        {
            "groups": groups,
            "status_labels": STATUS_LABELS,
            "can_fill": scope.can("report.fill"),
            "can_review": scope.can("report.review"),
        },
    )


# --- one report -----------------------------------------------------------------------------


async def _load(request: Request, scope: TenantScope, period_id: int) -> filing.Filing:
    """The centre's own report for the period; 404 when the centre does not file its form."""
    report = await filing.load(scope, period_id)
    if not _files(
        tenant_tree(request), tenant_node(request), report.form["tenant_id"], report.definition
    ):
        raise NotFound()
    return report


def _access_box(report: filing.Filing, can_fill: bool) -> dict[str, str]:
    """The sentence that says whether and why the report can be changed, and its tone."""
    access = report.access
    status = status_key(report.submission)
    if access.locked:
        return {"tone": "error", "text": access.reason}
    if not can_fill:
        if access.editable:
            return {
                "tone": "info",
                "text": _("Only the manager of the centre fills in this report."),
            }
        return {"tone": "info", "text": access.reason}
    if status == "returned":
        return {"tone": "warn", "text": access.reason}
    if access.exception is not None:
        return {"tone": "warn", "text": access.reason}
    if not access.editable:
        return {"tone": "ok" if status == "approved" else "info", "text": access.reason}
    return {"tone": "", "text": ""}


async def _page(
    request: Request,
    scope: TenantScope,
    report: filing.Filing,
    *,
    posted: Posted | None = None,
    result: Check | None = None,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
    clear_draft: bool = False,
    refused: bool = False,
) -> Response:
    now = datetime.now(UTC)
    submission = report.submission or {}
    can_fill = scope.can("report.fill")
    editable = report.access.editable and can_fill
    if not editable:
        posted = None  # a read-only page shows what is stored, never what was typed
    if result is None and posted is not None:  # the problems of what is shown again
        result = check(
            report.definition,
            posted.values,
            previous=report.previous,
            sources=report.sources,
            corrections=posted.notes,
            comments=posted.comments,
        )
    result = result or report.result()
    events: list[dict[str, Any]] = []
    if submission.get("id"):
        events = await submission_queries.events(scope, int(submission["id"]))
    saved_at = submission.get("saved_at")
    saved_by = submission.get("saved_by_id", submission.get("saved_by"))
    return await render(
        request,
        "reports/form.html",
        {
            "report": report,
            "period": report.period,
            "month_label": periods.month_label(report.period["month"]),
            "sections": sections(
                report,
                result,
                shown=posted.values if posted else None,
                notes=posted.notes if posted else None,
                now=now,
            ),
            "rules": rule_rows(result, posted.comments if posted else None),
            "field_errors": result.field_errors,
            "editable": editable,
            "access_box": _access_box(report, can_fill),
            "status": status_key(report.submission),
            "status_labels": STATUS_LABELS,
            "timeliness": timeliness(report.period, report.submission, now),
            "overdue": overdue(report.period, report.submission, now),
            "events": events,
            "event_labels": EVENT_LABELS,
            "saved_at": saved_at.isoformat() if isinstance(saved_at, datetime) else "",
            "saved_by_me": saved_by is not None and saved_by == scope.user_id,
            "lock_version": report.lock_version,
            "can_copy": report.previous is not None,
            "notice": notice,
            "error": error,
            "clear_draft": clear_draft,
            "refused": refused,
            "action_url": request.url.path,
        },
        status_code=status_code,
    )


def _done(request: Request, saved: str) -> Response:
    return RedirectResponse(f"{request.url.path}?saved={saved}", status_code=303)


async def _autosave(
    request: Request, scope: TenantScope, report: filing.Filing, posted: Posted
) -> Response:
    """The htmx autosave: a status line, and the new lock version swapped in out of band."""
    ctx: dict[str, Any] = {
        "error": "",
        "lock_version": None,
        "problems": [],
        "blocking": [],
        "warnings": [],
    }
    status_code = 200
    try:
        result = await filing.save(
            scope,
            report,
            posted.values,
            corrections=posted.notes,
            comments=posted.comments,
            lock_version=posted.lock_version,
        )
    except filing.Conflict:
        ctx["error"] = _(
            "Not saved: someone else saved this report in the meantime. Reload the page;"
            " what you typed is kept in this browser."
        )
        status_code = 409
    except filing.FilingError as exc:
        ctx["error"] = exc.message
        status_code = 422
    else:
        ctx["lock_version"] = report.lock_version
        ctx["time"] = local_time(datetime.now(UTC), "%H:%M:%S")
        labels = {f.key: f.label for f in report.definition.fields()}
        ctx["problems"] = [labels[k] for k in result.field_errors if k in labels]
        ctx["blocking"] = [r.message for r in result.blocking]
        ctx["warnings"] = [r.message for r in result.warnings if not r.comment]
    return await render(
        request, "reports/_form_autosave.html", ctx, block=None, status_code=status_code
    )


async def report_page(request: Request) -> Response:
    scope = tenant_scope(request, "report.view")
    period_id = int_param(request, "period_id")
    report = await _load(request, scope, period_id)
    if request.method == "GET":
        notice = SAVED_NOTICES.get(request.query_params.get("saved", ""))
        return await _page(
            request, scope, report, notice=str(notice or ""), clear_draft=notice is not None
        )
    scope.require("report.fill")
    posted = read_post(await request.form(), report)
    if posted.action == "autosave" and is_htmx(request):
        return await _autosave(request, scope, report, posted)
    values = posted.values
    if posted.action == "copy":
        if report.previous is None:
            return await _page(
                request,
                scope,
                report,
                posted=posted,
                error=_("There is no earlier submitted report of this form to copy."),
                status_code=422,
            )
        typed = {**(report.submission or {}), "values": dict(values)}
        values = filing.copied(dataclasses.replace(report, submission=typed))
    elif posted.action == "zero":
        values = filing.zero_filled(report, values)
    try:
        if posted.action == "submit":
            await filing.submit(
                scope,
                report,
                values,
                corrections=posted.notes,
                comments=posted.comments,
                lock_version=posted.lock_version,
                actor_name=current_user(request).display_name,
                request=request,
            )
            return _done(request, "submitted")
        await filing.save(
            scope,
            report,
            values,
            corrections=posted.notes,
            comments=posted.comments,
            lock_version=posted.lock_version,
        )
    except filing.Conflict:
        fresh = await _load(request, scope, period_id)
        return await _page(
            request,
            scope,
            fresh,
            posted=dataclasses.replace(posted, values=values),
            error=_(
                "Someone else saved this report in the meantime. What you typed is still in"
                " the form below: check it, then save again to replace their version."
            ),
            status_code=409,
        )
    except filing.FilingError as exc:
        return await _page(
            request,
            scope,
            report,
            posted=posted if exc.check is not None else None,
            result=exc.check,
            error=exc.message,
            status_code=422,
            refused=exc.check is not None,
        )
    return _done(request, {"copy": "copy", "zero": "zero"}.get(posted.action, "1"))


routes = [
    Route("/t/{slug}/reports", report_list, methods=["GET"]),
    # Not ``{period_id:int}``: Starlette's int convertor raises (a 500) on more than 4300
    # digits; int_param answers 404 for anything that is no id.
    Route("/t/{slug}/reports/{period_id}", report_page, methods=["GET", "POST"]),
]
