"""The daily work logs (工作日志) of a centre's windows.

``GET /t/{slug}/worklogs?month=yyyy-mm`` (``worklog.view``): windows × working days, missing
logs highlighted; a supervisor reads a centre of the subtree at ``/t/{centre}/worklogs``.
``GET|POST /worklogs/new?window=&day=`` (``worklog.write``), ``GET|POST /worklogs/{log_id}``
(view; edit until reviewed), ``POST /worklogs/{log_id}/review`` (``worklog.review``) and
``GET /worklogs/summary?period=yyyy-mm|yyyy-Qn|yyyy`` (当月反馈 / 季度通报 / 年终考评).
Success answers 303; refused input re-renders with 422 and the input kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.calendar import services as calendar
from app.reports.posted import texts
from app.staff import forms, worklog
from app.staff.assessment import month_of
from app.staff.queries import worklogs as queries
from app.staff.summary import ATTENDANCE, days, month_period, parse_period, summarise
from app.tenancy import queries as tenancy
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

ATTENDANCE_LABELS = {
    "present": _l("Present"),
    "late": _l("Late for work"),
    "leave": _l("On leave"),
    "absent": _l("Absent"),
    "trip": _l("Business trip"),
}
DONE = {
    "written": _l("The work log is saved."),
    "saved": _l("The changes are saved."),
    "reviewed": _l("The work log is reviewed; it can no longer be changed."),
}


def _base(request: Request) -> str:
    return f"/t/{tenant_node(request).slug}/worklogs"


async def index(request: Request) -> Response:
    scope = tenant_scope(request, "worklog.view")
    tenant_id = scope.own()
    tree = tenant_tree(request)
    month = month_of(request.query_params.get("month", ""))
    period = month_period(month)
    last = min(period.last, worklog.today())
    cal = await calendar.load(scope, tenant_id)
    working = [d for d in days(period.first, last) if cal.days.is_working_day(d)]
    windows = await tenancy.windows(scope, tenant_id)
    logs = await queries.logs_between(scope, tenant_id, period.first, period.last)
    by_cell = {(int(r["window_id"]), r["day"]): r for r in logs}
    missing = sum(1 for w in windows for d in working if (int(w["id"]), d) not in by_cell)
    centres = [
        tree.nodes[i] for i in sorted(tree.subtree(tenant_id) - {tenant_id}) if i in scope.read_ids
    ]
    year, mon = divmod(month, 100)
    prev_m = f"{year - (mon == 1)}-{(mon - 2) % 12 + 1:02d}"
    next_m = f"{year + (mon == 12)}-{mon % 12 + 1:02d}"
    return await render(
        request,
        "staff/worklogs.html",
        {
            "month": f"{year}-{mon:02d}",
            "prev_month": prev_m,
            "next_month": next_m,
            "working": working,
            "windows": windows,
            "cells": by_cell,
            "missing": missing,
            "centres": sorted(centres, key=lambda n: n.slug),
            "may_write": scope.can("worklog.write") and tenant_id in scope.write_ids,
            "base": _base(request),
            "today": worklog.today(),
        },
        block="grid",
    )


async def _form_page(
    request: Request,
    *,
    log: dict[str, Any] | None,
    window: dict[str, Any],
    day: date,
    lines: list[dict[str, Any]],
    counts: dict[str, int],
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    error: str = "",
    may_edit: bool,
    may_review: bool = False,
    review_comment: str = "",
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("done", "")
    return await render(
        request,
        "staff/worklog.html",
        {
            "log": log,
            "window": window,
            "day": day,
            "lines": lines,
            "counts": counts,
            "values": values,
            "errors": errors or {},
            "error": error,
            "notice": str(DONE[done]) if done in DONE and status_code == 200 else "",
            "may_edit": may_edit,
            "may_review": may_review,
            "review_comment": review_comment,
            "attendance": [(k, ATTENDANCE_LABELS[k]) for k in ATTENDANCE],
            "attendance_labels": ATTENDANCE_LABELS,
            "base": _base(request),
        },
        status_code=status_code,
    )


def _values(entry: worklog.Entry | None, log: dict[str, Any] | None) -> dict[str, str]:
    if entry is not None:
        return {
            "offline": entry.offline,
            "style_notes": entry.style_notes,
            "discipline_notes": entry.discipline_notes,
            "note": entry.note,
        }
    if log is None:
        return {"offline": "0", "style_notes": "", "discipline_notes": "", "note": ""}
    return {
        "offline": str(log["offline"]),
        "style_notes": log["style_notes"],
        "discipline_notes": log["discipline_notes"],
        "note": log["note"],
        "lock_version": str(log["lock_version"]),
    }


def _typed(lines: list[dict[str, Any]], entry: worklog.Entry) -> list[dict[str, Any]]:
    return [
        {**line, "attendance": entry.attendance[i], "note": entry.notes[i]}
        for i, line in enumerate(lines)
    ]


async def new(request: Request) -> Response:
    scope = tenant_scope(request, "worklog.write")
    tenant_id = scope.own()
    if tenant_id not in scope.write_ids:
        raise NotFound()
    window_id = forms.parse_id(request.query_params.get("window", ""))
    day_text = request.query_params.get("day", "")
    day = forms.parse_day(day_text)
    if day is None and day_text.strip() and request.method == "POST":
        raise NotFound()  # a form for a day that is no day: never written for today instead
    day = day or worklog.today()
    if window_id is None:
        windows = await tenancy.windows(scope, tenant_id)
        return await render(
            request,
            "staff/worklog_pick.html",
            {"windows": windows, "day": day, "base": _base(request)},
        )
    window = await queries.window(scope, tenant_id, window_id)
    if window is None:
        raise NotFound()
    existing = await queries.log_for(scope, tenant_id, window_id, day)
    if existing is not None:
        return RedirectResponse(f"{_base(request)}/{existing['id']}", status_code=303)
    lines = await worklog.staff_lines(scope, tenant_id, window_id)
    counts = await worklog.platform_counts(scope, tenant_id, window_id, day)
    may = await worklog.may_write(scope, tenant_id, window_id)
    page: dict[str, Any] = dict(log=None, window=window, day=day, counts=counts, may_edit=may)
    if request.method == "GET":
        error = ""
        try:
            await worklog.check_day(scope, tenant_id, day, datetime.now(UTC))
        except worklog.WorkLogError as exc:
            error = exc.message
        if not may:
            error = error or _("Only the window's A and B post holders or a manager write its log.")
        return await _form_page(
            request, lines=lines, values=_values(None, None), error=error, **page
        )
    entry = forms.entry(texts(await request.form()), len(lines))
    try:
        log_id = await worklog.create(request, scope, tenant_id, window_id, day, entry)
    except worklog.Invalid as exc:
        return await _form_page(
            request, lines=_typed(lines, entry), values=_values(entry, None), errors=exc.errors,
            error=exc.message, status_code=422, **page,
        )  # fmt: skip
    except worklog.WorkLogError as exc:
        return await _form_page(
            request, lines=_typed(lines, entry), values=_values(entry, None), error=exc.message,
            status_code=422, **page,
        )  # fmt: skip
    except queries.Conflict:
        found = await queries.log_for(scope, tenant_id, window_id, day)
        return RedirectResponse(f"{_base(request)}/{found['id'] if found else ''}", status_code=303)
    return RedirectResponse(f"{_base(request)}/{log_id}?done=written", status_code=303)


async def _load(request: Request) -> tuple[Any, dict[str, Any]]:
    scope = tenant_scope(request, "worklog.view")
    log = await queries.log(scope, int_param(request, "log_id"))
    if log is None or log["tenant_id"] != scope.tenant_id:
        raise NotFound()
    return scope, log


async def detail(request: Request) -> Response:
    scope, log = await _load(request)
    tenant_id, window_id = int(log["tenant_id"]), int(log["window_id"])
    window = {"id": window_id, "code": log["window_code"], "name": log["window_name"]}
    may_edit = log["reviewed_at"] is None and await worklog.may_write(scope, tenant_id, window_id)
    may_review = (
        log["reviewed_at"] is None and scope.can("worklog.review") and tenant_id in scope.write_ids
    )
    counts = {k: int(log[k]) for k in ("registered", "accepted", "concluded")}
    page: dict[str, Any] = dict(
        log=log, window=window, day=log["day"], counts=counts, may_review=may_review
    )
    lines = list(log["staff"] or [])
    if request.method == "GET":
        return await _form_page(
            request, lines=lines, values=_values(None, log), may_edit=may_edit, **page
        )
    data = texts(await request.form())
    entry = forms.entry(data, len(lines))
    try:
        await worklog.update(request, scope, log, entry, forms.lock_version(data))
    except worklog.Invalid as exc:
        values = {**_values(entry, None), "lock_version": str(log["lock_version"])}
        return await _form_page(
            request, lines=_typed(lines, entry), values=values, errors=exc.errors,
            error=exc.message, may_edit=may_edit, status_code=422, **page,
        )  # fmt: skip
    except (worklog.WorkLogError, queries.Conflict) as exc:
        fresh = await queries.log(scope, int(log["id"]))
        assert fresh is not None
        message = (
            exc.message
            if isinstance(exc, worklog.WorkLogError)
            else _(
                "The log changed while you were editing: your text is kept; check and save again."
            )
        )
        values = {**_values(entry, None), "lock_version": str(fresh["lock_version"])}
        status = 422 if isinstance(exc, worklog.WorkLogError) else 409
        return await _form_page(
            request, lines=_typed(lines, entry), values=values, error=message,
            may_edit=may_edit and fresh["reviewed_at"] is None, status_code=status,
            **{**page, "log": fresh},
        )  # fmt: skip
    return RedirectResponse(f"{_base(request)}/{log['id']}?done=saved", status_code=303)


async def review(request: Request) -> Response:
    scope, log = await _load(request)
    data = texts(await request.form())
    comment = data.get("comment", "")
    try:
        await worklog.review(request, scope, log, comment, forms.lock_version(data))
    except (worklog.WorkLogError, queries.Conflict) as exc:
        fresh = await queries.log(scope, int(log["id"])) or log
        message = (
            exc.message
            if isinstance(exc, worklog.WorkLogError)
            else _("The log changed while you were reading it: check it again, then review.")
        )
        window = {
            "id": fresh["window_id"],
            "code": fresh["window_code"],
            "name": fresh["window_name"],
        }
        counts = {k: int(fresh[k]) for k in ("registered", "accepted", "concluded")}
        return await _form_page(
            request, log=fresh, window=window, day=fresh["day"], lines=list(fresh["staff"] or []),
            counts=counts, values=_values(None, fresh), error=message, may_edit=False,
            may_review=fresh["reviewed_at"] is None, review_comment=comment,
            status_code=409 if isinstance(exc, queries.Conflict) else 422,
        )  # fmt: skip
    return RedirectResponse(f"{_base(request)}/{log['id']}?done=reviewed", status_code=303)


async def summary(request: Request) -> Response:
    scope = tenant_scope(request, "worklog.view")
    tenant_id = scope.own()
    text = request.query_params.get("period", "")
    today = worklog.today()
    period = parse_period(text) or parse_period(f"{today.year}-{today.month:02d}")
    assert period is not None
    error = (
        _("Give the period as yyyy-mm, yyyy-Qn or yyyy.") if text and not parse_period(text) else ""
    )
    last = min(period.last, today)
    cal = await calendar.load(scope, tenant_id)
    working = (
        [d for d in days(period.first, last) if cal.days.is_working_day(d)]
        if (last >= period.first)
        else []
    )
    windows = await tenancy.windows(scope, tenant_id)
    logs = await queries.logs_between(scope, tenant_id, period.first, period.last)
    result = summarise(period, working, windows, logs)
    year = period.first.year
    quarter = (period.first.month + 2) // 3
    return await render(
        request,
        "staff/worklog_summary.html",
        {
            "summary": result,
            "period_text": text if error else period.text,
            "error": error,
            "links": {
                "month": f"{year}-{period.first.month:02d}",
                "quarter": f"{year}-Q{quarter}",
                "year": f"{year}",
            },
            "attendance_labels": ATTENDANCE_LABELS,
            "attendance": ATTENDANCE,
            "base": _base(request),
        },
        block="summary",
        status_code=422 if error else 200,
    )


routes: list[BaseRoute] = [
    Route("/t/{slug}/worklogs", index, methods=["GET"]),
    Route("/t/{slug}/worklogs/new", new, methods=["GET", "POST"]),
    Route("/t/{slug}/worklogs/summary", summary, methods=["GET"]),
    Route("/t/{slug}/worklogs/{log_id}", detail, methods=["GET", "POST"]),
    Route("/t/{slug}/worklogs/{log_id}/review", review, methods=["POST"]),
]
