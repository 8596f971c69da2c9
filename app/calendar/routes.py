"""Calendar pages: national days for platform admins, a centre's effective calendar, and a
division's regional days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.calendar import queries, services
from app.calendar.forms import (
    KIND_LABELS,
    SOURCE_LABELS,
    DayForm,
    PublishForm,
    RemoveForm,
    year_param,
)
from app.calendar.workdays import SHANGHAI, Rule, exceptions, group
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree
from app.web.auth import platform_admin, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
DONE = {
    "saved": _l("The day has been saved."),
    "removed": _l("Removed."),
    "published": _l("The year has been marked as published."),
    "unchanged": _l("Nothing changed: the calendar already says so."),
}


def this_year() -> int:
    return datetime.now(UTC).astimezone(SHANGHAI).year


def _common(year: int, request: Request) -> dict[str, Any]:
    return {
        "year": year,
        "kinds": KIND_LABELS,
        "sources": SOURCE_LABELS,
        "weekdays": WEEKDAYS,
        "done": DONE.get(request.query_params.get("done", "")),
    }


# --- platform admin: national days and published years ------------------------------------


async def _admin_page(
    request: Request,
    year: int,
    day_form: DayForm | None = None,
    publish_form: PublishForm | None = None,
    status_code: int = 200,
) -> Response:
    tree = await tenancy.tree()
    scope = services.admin_scope(request, tree)
    published = {r["year"]: r for r in await queries.calendar_years(scope)}
    years = sorted(
        {*published, *await queries.national_day_years(scope), this_year(), this_year() + 1, year}
    )
    if publish_form is None:
        publish_form = PublishForm(data={"year": year})
        if year in published:
            publish_form.notice.data = published[year]["notice"]
    return await render(
        request,
        "calendar/admin.html",
        {
            **_common(year, request),
            "years": years,
            "published": published,
            "runs": group(
                (r["day"], Rule(r["kind"], r["name"]), "national")
                for r in await queries.national_days(scope, year)
            ),
            "day_form": day_form or DayForm(),
            "publish_form": publish_form,
        },
        status_code=status_code,
    )


async def admin_calendar(request: Request) -> Response:
    platform_admin(request)
    year = year_param(request.query_params.get("year"), this_year())
    if request.method == "GET":
        return await _admin_page(request, year)
    form = await DayForm.from_request(request)
    if not form.validate():
        shown = form.day.data.year if form.day.data else year
        return await _admin_page(request, shown, day_form=form, status_code=422)
    day: date = form.day.data
    status = await services.save_national_day(
        request, await tenancy.tree(), day, form.kind.data, form.name.data
    )
    done = "unchanged" if status == "unchanged" else "saved"
    return RedirectResponse(f"/admin/calendar?year={day.year}&done={done}", status_code=303)


async def admin_remove(request: Request) -> Response:
    platform_admin(request)
    form = await RemoveForm.from_request(request)
    span = form.span() if form.validate() else None
    if span is None:
        raise NotFound()
    removed = await services.remove_national_days(request, await tenancy.tree(), *span)
    done = "removed" if removed else "unchanged"
    return RedirectResponse(f"/admin/calendar?year={span[0].year}&done={done}", status_code=303)


async def admin_publish(request: Request) -> Response:
    platform_admin(request)
    form = await PublishForm.from_request(request)
    tree = await tenancy.tree()
    if form.validate():
        year = form.year.data
        scope = services.admin_scope(request, tree)
        if not await queries.national_days(scope, year):
            form.add_error(
                "year", str(_l("Enter the year's days off and make-up working days first."))
            )
        else:
            status = await services.publish_year(request, tree, year, form.notice.data)
            done = "unchanged" if status == "unchanged" else "published"
            return RedirectResponse(f"/admin/calendar?year={year}&done={done}", status_code=303)
    year = year_param(str(form.year.data or ""), this_year())
    return await _admin_page(request, year, publish_form=form, status_code=422)


# --- a centre's effective calendar; a division's regional days ------------------------------


def _manages(scope: TenantScope, tree: Tree, tenant_id: int) -> bool:
    node = tree.nodes[tenant_id]
    return (
        node.kind == "division" and scope.can("calendar.regional") and tenant_id in scope.write_ids
    )


async def _tenant_page(
    request: Request, year: int, form: DayForm | None = None, status_code: int = 200
) -> Response:
    scope = tenant_scope(request)
    node, tree = tenant_node(request), tenant_tree(request)
    cal = await services.load(scope, node.id, tree)
    divisions = [
        tree.nodes[i]
        for i in [node.id, *tree.ancestors(node.id)]
        if tree.nodes[i].kind == "division"
    ]
    manages = _manages(scope, tree, node.id)
    published = {r["year"]: r for r in await queries.calendar_years(scope)}
    return await render(
        request,
        "calendar/tenant.html",
        {
            **_common(year, request),
            "runs": exceptions(cal.days, year),
            "notice": published.get(year),
            "provisional": cal.is_provisional(date(year, 1, 1)),
            "hours": cal.hours,
            "divisions": [(d, d.id in scope.read_ids and d.id != node.id) for d in divisions],
            "manages": manages,
            "regional": group(
                (r["day"], Rule(r["kind"], r["name"]), "regional")
                for r in (await queries.regional_days(scope, [node.id], year) if manages else [])
            ),
            "form": form or DayForm(),
        },
        status_code=status_code,
    )


async def tenant_calendar(request: Request) -> Response:
    scope = tenant_scope(request)
    year = year_param(request.query_params.get("year"), this_year())
    if request.method == "GET":
        return await _tenant_page(request, year)
    scope.require("calendar.regional")
    node, tree = tenant_node(request), tenant_tree(request)
    if not _manages(scope, tree, node.id):
        raise NotFound()
    form = await DayForm.from_request(request)
    if not form.validate():
        shown = form.day.data.year if form.day.data else year
        return await _tenant_page(request, shown, form=form, status_code=422)
    day: date = form.day.data
    change = services.RegionalChange(node.id, day, form.kind.data, form.name.data)
    status = await services.save_regional_day(request, scope, tree, change)
    done = "unchanged" if status == "unchanged" else "saved"
    return RedirectResponse(f"/t/{node.slug}/calendar?year={day.year}&done={done}", status_code=303)


async def tenant_remove(request: Request) -> Response:
    scope = tenant_scope(request, "calendar.regional")
    node, tree = tenant_node(request), tenant_tree(request)
    if not _manages(scope, tree, node.id):
        raise NotFound()
    form = await RemoveForm.from_request(request)
    span = form.span() if form.validate() else None
    if span is None:
        raise NotFound()
    removed = await services.remove_regional_days(request, scope, tree, node.id, *span)
    done = "removed" if removed else "unchanged"
    year = span[0].year
    return RedirectResponse(f"/t/{node.slug}/calendar?year={year}&done={done}", status_code=303)


routes = [
    Route("/admin/calendar", admin_calendar, methods=["GET", "POST"]),
    Route("/admin/calendar/remove", admin_remove, methods=["POST"]),
    Route("/admin/calendar/publish", admin_publish, methods=["POST"]),
    Route("/t/{slug}/calendar", tenant_calendar, methods=["GET", "POST"]),
    Route("/t/{slug}/calendar/remove", tenant_remove, methods=["POST"]),
]
