"""The reviewers' pages of the monthly reports.

``GET|POST /t/{slug}/reports/{period_id}/c/{centre}`` (``report.review``): one centre's
report of one period, read-only, with the review form — ``decision`` = approve | return
(a return needs its reason).  ``POST …/exception``: the division that owns the form lets
the centre file a locked period until a given day.  Success answers 303 back to the page;
a refused decision re-renders it with 422, the message next to the field and the input kept.
The grid (``/t/{slug}/reports/grid``) lives in :mod:`app.reports.grid_routes`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.reports import grid_routes, periods, review, review_view
from app.reports.posted import texts
from app.reports.queries.submissions import Conflict
from app.reports.review_forms import DECISIONS, ExceptionForm, ReviewForm
from app.tenancy.scope import TenantScope
from app.web.auth import current_user, int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

DONE = {
    "approve": _l("The report is approved."),
    "endorse": _l("The report is approved and passed on to the division."),
    "return": _l("The report is returned; the centre has been told the reason."),
    "exception": _l("The exception is granted; the centre has been told."),
}


def _url(request: Request, period_id: int, centre: str) -> str:
    return f"/t/{tenant_node(request).slug}/reports/{period_id}/c/{centre}"


async def _page(
    request: Request,
    view: review_view.ReviewView,
    *,
    review_form: ReviewForm | None = None,
    exception_form: ExceptionForm | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("done", "")
    notice = str(DONE[done]) if done in DONE and status_code == 200 else ""
    return await render(
        request,
        "reports/review.html",
        {
            "view": view,
            "review_form": review_form or ReviewForm(data={"lock_version": view.lock_version}),
            "exception_form": exception_form or ExceptionForm(),
            "error": error,
            "notice": notice,
            "month_label": periods.month_label,
            "status_labels": review_view.STATUS_LABELS,
            "grid_url": f"/t/{tenant_node(request).slug}/reports/grid?form={view.form['id']}",
            "url": _url(request, int(view.period["id"]), view.centre.slug),
        },
        status_code=status_code,
    )


async def submission(request: Request) -> Response:
    scope = tenant_scope(request, "report.review")
    tree = tenant_tree(request)
    period_id = int_param(request, "period_id")
    centre = str(request.path_params.get("centre", ""))
    view = await review_view.review_view(scope, tree, period_id, centre)
    if request.method == "GET":
        return await _page(request, view)
    data = texts(await request.form())
    review_form = ReviewForm(formdata=data)
    decision = str(data.get("decision", ""))
    if view.submission is None or not (view.may_approve or view.may_return):
        return await _page(
            request,
            view,
            review_form=review_form,
            error=_("This report is not waiting for your review."),
            status_code=422,
        )
    try:
        if decision not in DECISIONS:
            raise review.ReviewError(_("Choose approve or return."), "decision")
        status = await review.decide(
            request,
            tree,
            scope,
            int(view.submission["id"]),
            decision,
            review_form.reason.data or "",
            actor_name=current_user(request).display_name,
            # A missing or unreadable lock version is stale: never a blind decision.
            lock_version=_lock_version(review_form),
        )
    except (review.ReviewError, Conflict) as exc:
        return await _refused(request, scope, view, review_form, exc)
    done = {"approved": "approve", "endorsed": "endorse", "returned": "return"}[status]
    return RedirectResponse(f"{_url(request, period_id, centre)}?done={done}", status_code=303)


def _lock_version(review_form: ReviewForm) -> int:
    value = review_form.lock_version.data
    return value if isinstance(value, int) and 0 <= value < 2**31 else -1


async def _refused(
    request: Request,
    scope: TenantScope,
    view: review_view.ReviewView,
    review_form: ReviewForm,
    exc: Exception,
) -> Response:
    error = ""
    if isinstance(exc, Conflict):
        error = _("The report changed while you were reading it: check it again, then decide.")
        view = await review_view.review_view(
            scope, tenant_tree(request), int(view.period["id"]), view.centre.slug
        )
        review_form.lock_version.data = view.lock_version
        review_form.lock_version.raw_data = [str(view.lock_version)]
    elif isinstance(exc, review.ReviewError) and exc.field == "reason":
        review_form.add_error("reason", exc.message)
    else:
        error = getattr(exc, "message", str(exc))
    return await _page(request, view, review_form=review_form, error=error, status_code=422)


async def exception(request: Request) -> Response:
    scope = tenant_scope(request, "report.review")
    tree = tenant_tree(request)
    period_id = int_param(request, "period_id")
    centre = str(request.path_params.get("centre", ""))
    view = await review_view.review_view(scope, tree, period_id, centre)
    if not view.may_grant:
        raise Forbidden()
    form = ExceptionForm(formdata=texts(await request.form()))
    form.validate()
    if not form.until.errors:
        try:
            await review.grant_exception(
                request,
                tree,
                scope,
                period_id,
                view.centre.id,
                form.reason.data or "",
                form.until.data,
                now=review_view.now(),
            )
        except review.ReviewError as exc:
            form.add_error(exc.field if exc.field in ("reason", "until") else "reason", exc.message)
        else:
            url = _url(request, period_id, centre)
            return RedirectResponse(f"{url}?done=exception#exceptions", status_code=303)
    return await _page(request, view, exception_form=form, status_code=422)


routes: list[BaseRoute] = [
    *grid_routes.routes,  # /reports/grid before /reports/{period_id}…
    Route("/t/{slug}/reports/{period_id}/c/{centre}", submission, methods=["GET", "POST"]),
    Route("/t/{slug}/reports/{period_id}/c/{centre}/exception", exception, methods=["POST"]),
]
