"""The division's report forms (月报表) in the browser: the list, one editor page for a new
form or a new version of one, and the read-only page of a version with what changed against
the version before it and the periods that use it.

Only the division's supervisors (``report.define``) at a tenant of kind "division" reach
these pages: without the capability it is 403, anywhere else (a regiment, a community, a
form of another division) 404.  Saving makes a new version only when the definition
changed; a period keeps the version in force when it opened.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.accounts import audit
from app.reports import definition_diff, periods, versions
from app.reports.definition import FIELD_TYPES, FILER_KINDS, LEVELS, ROLLUPS, SOURCES
from app.reports.definition_checks import check, error_list, numeric_fields
from app.reports.definition_forms import (
    DefinitionForm,
    EditDefinitionForm,
    NewDefinitionForm,
    blank_data,
    form_data,
    index,
    moved,
    plain,
    to_definition,
)
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

DONE = {
    "created": _l("The form is created as version 1."),
    "versioned": _l("Saved as a new version."),
    "unchanged": _l(
        "Nothing changed: the definition equals the newest version, so no new version was made."
    ),
}


def _definer(request: Request) -> tuple[TenantScope, TenantNode]:
    scope = tenant_scope(request, "report.define")  # 403 for managers and clerks
    node = tenant_node(request)
    if node.kind != "division" or node.id not in scope.write_ids:
        raise NotFound()
    return scope, node


def _base(node: TenantNode) -> str:
    return f"/t/{node.slug}/report-forms"


async def _own_form(request: Request, scope: TenantScope, node: TenantNode) -> dict[str, Any]:
    record = await form_queries.form(scope, int_param(request, "form_id"))
    if record is None or record["tenant_id"] != node.id:
        raise NotFound()
    return record


def first_of_next_month(today: date) -> date:
    return periods.opening_day(periods.month_of(today))


def _labels() -> dict[str, Any]:
    return {
        "field_types": FIELD_TYPES,
        "filer_kinds": FILER_KINDS,
        "levels": LEVELS,
        "rollups": ROLLUPS,
        "sources": SOURCES,
    }


# --- reading ------------------------------------------------------------------------------


async def forms_list(request: Request) -> Response:
    scope, node = _definer(request)
    today = periods.local_today()
    rows = []
    for record in await form_queries.forms(scope):
        if record["tenant_id"] != node.id:
            continue
        all_versions = await form_queries.versions(scope, record["id"])
        if not all_versions:
            continue
        opened = await period_queries.periods(scope, record["id"])
        rows.append(
            {
                "form": record,
                "newest": all_versions[0],
                "in_force": next((v for v in all_versions if v["effective_from"] <= today), None),
                "filers": all_versions[0]["definition"].get("filers", []),
                "periods": len(opened),
                "last_month": periods.month_label(opened[0]["month"]) if opened else "",
            }
        )
    return await render(
        request, "reports/forms_list.html", {"rows": rows, "base": _base(node), **_labels()}
    )


async def form_version(request: Request) -> Response:
    scope, node = _definer(request)
    record = await _own_form(request, scope, node)
    number = int_param(request, "number")
    all_versions = await form_queries.versions(scope, record["id"])
    version = next((v for v in all_versions if v["number"] == number), None)
    if version is None:
        raise NotFound()
    previous = next((v for v in all_versions if v["number"] < number), None)
    following = next((v for v in reversed(all_versions) if v["number"] > number), None)
    used = [
        {**p, "label": periods.month_label(p["month"])}
        for p in await period_queries.periods(scope, record["id"])
        if p["version_id"] == version["id"]
    ]
    changes = definition_diff.diff(
        previous["definition"] if previous else None, version["definition"]
    )
    return await render(
        request,
        "reports/form_version.html",
        {
            "record": record,
            "version": version,
            "definition": version["definition"],
            "previous": previous,
            "following": following,
            "newest": all_versions[0],
            "versions": all_versions,
            "changes": changes,
            "used": used,
            "base": _base(node),
            "grid": f"/t/{node.slug}/reports/grid",
            **_labels(),
        },
    )


# --- editing ------------------------------------------------------------------------------


async def _page(
    request: Request,
    form: DefinitionForm,
    ctx: dict[str, Any],
    status_code: int = 200,
    general: list[str] | None = None,
) -> Response:
    return await render(
        request,
        "reports/form_edit.html",
        {
            "form": form,
            "general": general or [],
            "problems": error_list(form),
            "numeric": numeric_fields(form),
            **_labels(),
            **ctx,
        },
        status_code=status_code,
    )


async def _posted(request: Request, cls: type[DefinitionForm]) -> tuple[Any, bool]:
    """The posted form (reordered if a move button was pressed), and whether a row button
    (add or move) was pressed rather than save."""
    formdata = plain(await request.form())
    form = cls(formdata=formdata)
    move = str(formdata.get("move") or "")
    if move:
        swapped = moved(formdata, form, move)
        if swapped is not None:
            form = cls(formdata=swapped)
    more = str(formdata.get("more") or "")
    if more == "section":
        form.add_section()
    elif more == "rule":
        form.add_rule()
    elif more.startswith("field-") and (row := index(more[6:])) is not None:
        form.add_field(row)
    return form, bool(move or more)


async def _audit(request: Request, scope: TenantScope, action: str, **detail: Any) -> None:
    async with db.write(scope):
        await audit.record(request, action, object_type="report_form", **detail)


async def form_new(request: Request) -> Response:
    scope, node = _definer(request)
    today = periods.local_today()
    ctx: dict[str, Any] = {
        "base": _base(node),
        "record": None,
        "versions": [],
        "action": f"{_base(node)}/new",
    }
    if request.method == "GET":
        data = {**blank_data(), "effective_from": first_of_next_month(today)}
        return await _page(request, NewDefinitionForm(data=data), ctx)
    form, row_button = await _posted(request, NewDefinitionForm)
    if row_button:
        return await _page(request, form, ctx)
    ok = form.validate()
    data, where = to_definition(form, None)
    ok = check(form, data, where, today) and ok
    code = form.code.data or ""
    if not form.code.errors and await form_queries.form_by_code(scope, node.id, code):
        form.add_error("code", _("Another form of the division already uses this code."))
        ok = False
    if not ok:
        return await _page(request, form, ctx, 422)
    effective = form.effective_from.data
    try:
        form_id = await versions.create_form(
            scope,
            node.id,
            code,
            form.title.data or "",
            data,
            effective,
            change_note=form.change_note.data or "",
        )
    except versions.DefinitionError as exc:
        return await _page(request, form, ctx, 422, exc.problems)
    await _audit(
        request,
        scope,
        "report_form.created",
        tenant_id=node.id,
        object_id=form_id,
        code=code,
        version=1,
        effective_from=effective.isoformat(),
    )
    return RedirectResponse(f"{_base(node)}/{form_id}?done=created", status_code=303)


async def form_edit(request: Request) -> Response:
    scope, node = _definer(request)
    record = await _own_form(request, scope, node)
    all_versions = await form_queries.versions(scope, record["id"])
    if not all_versions:
        raise NotFound()
    newest = all_versions[0]
    today = periods.local_today()
    earliest = max(today, newest["effective_from"])
    ctx: dict[str, Any] = {
        "base": _base(node),
        "record": record,
        "versions": all_versions,
        "newest": newest,
        "action": f"{_base(node)}/{record['id']}",
        "done": DONE.get(request.query_params.get("done", "")),
    }
    if request.method == "GET":
        data = {
            **form_data(newest["definition"]),
            "title": record["title"],
            "effective_from": max(first_of_next_month(today), newest["effective_from"]),
            "expected": record["current_version"],
        }
        return await _page(request, EditDefinitionForm(data=data), ctx)
    ctx["done"] = None
    form, row_button = await _posted(request, EditDefinitionForm)
    if row_button:
        return await _page(request, form, ctx)
    ok = form.validate()
    data, where = to_definition(form, newest["definition"])
    if not check(form, data, where, earliest) or not ok:
        return await _page(request, form, ctx, 422)
    expected = index(str(form.expected.data or ""))
    effective = form.effective_from.data
    try:
        number = await versions.save_version(
            scope,
            record,
            data,
            effective,
            expected=-1 if expected is None else expected,
            change_note=form.change_note.data or "",
            title=form.title.data,
        )
    except versions.DefinitionError as exc:
        return await _page(request, form, ctx, 422, exc.problems)
    except versions.VersionConflict:
        current = (await form_queries.versions(scope, record["id"]))[0]
        message = _(
            "Version %(n)s was saved meanwhile, so yours was not. Your input is kept below:"
            " compare it with version %(n)s, then open the editor again.",
            n=current["number"],
        )
        ctx["conflict"] = current
        return await _page(request, form, ctx, 409, [message])
    if number is not None:
        await _audit(
            request,
            scope,
            "report_form.versioned",
            tenant_id=node.id,
            object_id=record["id"],
            code=record["code"],
            version=number,
            effective_from=effective.isoformat(),
            change_note=form.change_note.data or "",
        )
    elif (form.title.data or "").strip() != record["title"]:
        await _audit(
            request,
            scope,
            "report_form.retitled",
            tenant_id=node.id,
            object_id=record["id"],
            code=record["code"],
            title=form.title.data,
        )
    done = "versioned" if number is not None else "unchanged"
    return RedirectResponse(f"{_base(node)}/{record['id']}?done={done}", status_code=303)


routes = [
    Route("/t/{slug}/report-forms", forms_list),
    Route("/t/{slug}/report-forms/new", form_new, methods=["GET", "POST"]),
    Route("/t/{slug}/report-forms/{form_id}", form_edit, methods=["GET", "POST"]),
    Route("/t/{slug}/report-forms/{form_id}/v/{number}", form_version),
]
