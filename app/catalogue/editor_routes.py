"""The division's item catalogue in the browser: list and search, the item page with its
versions and flowchart, old versions with their diff, and the supervisor's editor.

Any staff of the division or of a centre under it may read (``tenant.view``); only a
division supervisor at the division (``catalogue.edit``) creates, revises, retires, restores.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.catalogue import content as rules
from app.catalogue import versions
from app.catalogue.editor_forms import (
    EditItemForm,
    ItemForm,
    NewItemForm,
    RetireForm,
    error_list,
    form_data,
    show_problems,
    shown,
    to_content,
    today,
)
from app.catalogue.flowchart import flowchart_html
from app.catalogue.queries import templates as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

DONE = {
    "created": _l("The item has been created as version 1."),
    "revised": _l("Saved as a new version."),
    "unchanged": _l("Nothing changed: the content equals the newest version; no version was made."),
    "retired": _l("The item is retired: centres take no new applications for it."),
    "restored": _l("The item is restored."),
    "sample": _l("The sample is stored: saved as a new version."),
    "sample_removed": _l("The sample is removed: saved as a new version."),
}
STATUSES = {"active": _l("Active"), "retired": _l("Retired"), "all": _l("All")}
RESULTS = "catalogue-results"  # the list's HTMX target (search as you type)


def can_edit(scope: TenantScope, node: TenantNode) -> bool:
    """Editing happens at the division only, by its supervisors."""
    return scope.can("catalogue.edit") and node.kind == "division" and node.id in scope.write_ids


def _editor(request: Request) -> tuple[TenantScope, TenantNode]:
    scope = tenant_scope(request, "catalogue.edit")  # 403 for centre managers and clerks
    node = tenant_node(request)
    if not can_edit(scope, node):
        raise NotFound()
    return scope, node


def _base(node: TenantNode) -> str:
    return f"/t/{node.slug}/catalogue"


async def _template(request: Request, scope: TenantScope) -> dict[str, Any]:
    code = request.path_params.get("code", "")
    row = (
        await queries.template_by_code(scope, code)
        if re.match(versions.CODE_PATTERN, code)
        else None
    )
    if row is None:
        raise NotFound()
    return row


async def _departments(scope: TenantScope, owner_id: int) -> list[tuple[str, str]]:
    """(code, short name) of a division's departments, in the hall's order."""
    rows = (await tenancy.departments_of(scope, owner_id)).values()
    return [(r["code"], r["short_name"]) for r in sorted(rows, key=lambda r: (r["sort"], r["id"]))]


def _labels() -> dict[str, Any]:
    return {
        "power_types": rules.POWER_TYPES,
        "kinds": rules.KINDS,
        "channels": rules.CHANNELS,
        "forms": rules.FORMS,
        "requirements": rules.REQUIREMENTS,
    }


# --- reading ------------------------------------------------------------------------------


def _matches(item: dict[str, Any], q: str, department: str, status: str) -> bool:
    if department and item["department_code"] != department:
        return False
    if status == "active" and item["retired_at"] is not None:
        return False
    if status == "retired" and item["retired_at"] is None:
        return False
    if q:
        c = item["content"]
        hay = " ".join((item["code"], c.get("name", ""), c.get("local_code", ""))).casefold()
        return all(word in hay for word in q.casefold().split())
    return True


async def catalogue_list(request: Request) -> Response:
    scope, node = tenant_scope(request), tenant_node(request)
    params = request.query_params
    q = params.get("q", "").strip()[:60]
    department = params.get("department", "")
    status = params.get("status", "active")
    status = status if status in STATUSES else "active"
    rows = await queries.templates(scope)
    latest = await queries.latest_versions(scope, [r["id"] for r in rows])
    items = [
        {**r, "content": latest[r["id"]]["content"], "version": latest[r["id"]]}
        for r in rows
        if r["id"] in latest
    ]
    shown_items = [i for i in items if _matches(i, q, department, status)]
    targeted = request.headers.get("HX-Target") == RESULTS
    response = await render(
        request,
        "catalogue/catalogue_list.html",
        {
            "items": shown_items,
            "total": len(items),
            "q": q,
            "department": department,
            "status": status,
            "statuses": STATUSES,
            "departments": await tenancy.departments(scope),
            "can_edit": can_edit(scope, node),
            "base": _base(node),
            "results_id": RESULTS,
            **_labels(),
        },
        block="results" if targeted else "content",
    )
    response.headers["Vary"] = "HX-Request, HX-Target, Cookie"
    return response


async def _authors(rows: list[dict[str, Any]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for user_id in {r["created_by_id"] for r in rows if r["created_by_id"]}:
        user = await accounts.user_by_id(user_id)
        out[user_id] = user.display_name if user else ""
    return out


async def _item_context(
    scope: TenantScope, node: TenantNode, row: dict[str, Any]
) -> dict[str, Any]:
    all_versions = await queries.versions(scope, row["id"])
    if not all_versions:
        raise NotFound()
    on = today()
    in_force = next((v for v in all_versions if v["effective_from"] <= on), None)
    names = dict(await _departments(scope, row["tenant_id"]))
    return {
        "item": row,
        "versions": all_versions,
        "newest": all_versions[0],
        "in_force": in_force,
        "today": on,
        "dept_names": names,
        "authors": await _authors(all_versions),
        "can_edit": can_edit(scope, node) and row["tenant_id"] == node.id,
        "base": _base(node),
        **_labels(),
    }


def material_index(request: Request) -> int:
    """The ``index`` path parameter (0-based material number); anything else is a 404."""
    value = str(request.path_params.get("index", ""))
    if not value.isascii() or not value.isdigit() or len(value) > 4:
        raise NotFound()
    return int(value)


def sample_url(owner_slug: str, code: str, index: int) -> str:
    """The public address of a material's sample, served by the owner division's guide."""
    return f"/t/{owner_slug}/guide/{code}/sample/{index}"


def sample_links(request: Request, row: dict[str, Any], content: dict[str, Any]) -> dict[int, str]:
    """Material index → its sample's address: the stored file at the owner division (exactly
    the newest version's), else the owner division's public address."""
    node = tenant_node(request)
    owner = tenant_tree(request).nodes.get(row["tenant_id"])
    links: dict[int, str] = {}
    for index, material in enumerate(content.get("materials", [])):
        file_id = material.get("sample_file_id")
        if file_id is None or owner is None:
            continue
        if owner.id == node.id:
            links[index] = f"/t/{node.slug}/files/{file_id}"
        else:
            links[index] = sample_url(owner.slug, row["code"], index)
    return links


async def item_page(request: Request) -> Response:
    scope, node = tenant_scope(request), tenant_node(request)
    row = await _template(request, scope)
    ctx = await _item_context(scope, node, row)
    newest = ctx["newest"]
    ctx["flowchart"] = flowchart_html(newest["content"], ctx["dept_names"])
    ctx["done"] = DONE.get(request.query_params.get("done", ""))
    ctx["retire_form"] = RetireForm()
    ctx["sample_links"] = sample_links(request, row, newest["content"])
    return await render(request, "catalogue/item_show.html", ctx)


def _lines(change: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A diff entry as lines for people, each marked if it is not on the other side (so a
    list such as the materials shows which rows were added, removed or changed)."""
    old = shown(change["field"], change["old"], names)
    new = shown(change["field"], change["new"], names)
    return {
        **change,
        "old": [{"text": t, "changed": t not in new} for t in old],
        "new": [{"text": t, "changed": t not in old} for t in new],
    }


async def item_version(request: Request) -> Response:
    scope, node = tenant_scope(request), tenant_node(request)
    row = await _template(request, scope)
    number = int_param(request, "number")
    ctx = await _item_context(scope, node, row)
    version = next((v for v in ctx["versions"] if v["number"] == number), None)
    if version is None:
        raise NotFound()
    previous = next((v for v in ctx["versions"] if v["number"] < number), None)
    names = ctx["dept_names"]
    changes = [
        _lines(c, names)
        for c in rules.diff(previous["content"] if previous else None, version["content"])
    ]
    ctx.update(
        version=version,
        previous=previous,
        changes=changes if previous else [],
        flowchart=flowchart_html(version["content"], names),
    )
    return await render(request, "catalogue/item_version.html", ctx)


# --- editing ------------------------------------------------------------------------------


async def _form_page(
    request: Request,
    form: ItemForm,
    ctx: dict[str, Any],
    status_code: int = 200,
    general: list[str] | None = None,
) -> Response:
    return await render(
        request,
        "catalogue/item_form.html",
        {"form": form, "general": general or [], "problems": error_list(form), **ctx},
        status_code=status_code,
    )


async def _posted(request: Request, cls: type[ItemForm], depts: list[tuple[str, str]]) -> Any:
    form = await cls.from_request(request)
    form.setup(depts)
    return form


async def item_new(request: Request) -> Response:
    scope, node = _editor(request)
    depts = await _departments(scope, node.id)
    ctx = {"base": _base(node), "item": None, "depts": dict(depts)}
    if request.method == "GET":
        form = NewItemForm(data={"effective_from": today()})
        form.setup(depts)
        form.add_blank_rows()
        return await _form_page(request, form, ctx)
    form = await _posted(request, NewItemForm, depts)
    more = (await request.form()).get("more")
    if more in ("materials", "steps"):
        form.add_blank_rows(str(more))
        return await _form_page(request, form, ctx)
    if not form.validate():
        return await _form_page(request, form, ctx, 422)
    data, rows = to_content(form, None)
    try:
        content = rules.validate(data)
        await versions.create(
            request, scope, form.code.data, content, form.effective_from.data, form.change_note.data
        )
    except rules.ContentError as exc:
        return await _form_page(request, form, ctx, 422, show_problems(form, exc.problems, rows))
    except versions.CatalogueError as exc:
        return await _form_page(
            request, form, ctx, 422, show_problems(form, {exc.field: exc.message}, rows)
        )
    return RedirectResponse(f"{_base(node)}/{form.code.data}?done=created", status_code=303)


async def item_edit(request: Request) -> Response:
    scope, node = _editor(request)
    row = await _template(request, scope)
    if row["tenant_id"] != node.id:
        raise NotFound()
    newest = (await queries.latest_versions(scope, [row["id"]]))[row["id"]]
    depts = await _departments(scope, node.id)
    ctx = {"base": _base(node), "item": row, "newest": newest, "depts": dict(depts)}
    if request.method == "GET":
        data = {**form_data(newest["content"]), "effective_from": today()}
        form = EditItemForm(data={**data, "base_version": newest["number"]})
        form.setup(depts)
        form.add_blank_rows()
        return await _form_page(request, form, ctx)
    form = await _posted(request, EditItemForm, depts)
    more = (await request.form()).get("more")
    if more in ("materials", "steps"):
        form.add_blank_rows(str(more))
        return await _form_page(request, form, ctx)
    if not form.validate():
        return await _form_page(request, form, ctx, 422)
    if str(form.base_version.data) != str(newest["number"]):
        message = _l("Version %(n)s was saved meanwhile: open the editor again to see it.")
        return await _form_page(request, form, ctx, 409, [str(message) % {"n": newest["number"]}])
    data, rows = to_content(form, newest["content"])
    try:
        content = rules.validate(data)
        made = await versions.revise(
            request,
            scope,
            row["id"],
            content,
            form.effective_from.data,
            bool(form.mandatory.data),
            form.change_note.data,
        )
    except rules.ContentError as exc:
        return await _form_page(request, form, ctx, 422, show_problems(form, exc.problems, rows))
    except versions.CatalogueError as exc:
        return await _form_page(
            request, form, ctx, 422, show_problems(form, {exc.field: exc.message}, rows)
        )
    done = "revised" if made else "unchanged"
    return RedirectResponse(f"{_base(node)}/{row['code']}?done={done}", status_code=303)


async def item_retire(request: Request) -> Response:
    scope, node = _editor(request)
    row = await _template(request, scope)
    if row["tenant_id"] != node.id:
        raise NotFound()
    form = await RetireForm.from_request(request)
    form.validate()
    await versions.retire(request, scope, row["id"], (form.note.data or "")[:300])
    return RedirectResponse(f"{_base(node)}/{row['code']}?done=retired", status_code=303)


async def item_restore(request: Request) -> Response:
    scope, node = _editor(request)
    row = await _template(request, scope)
    if row["tenant_id"] != node.id:
        raise NotFound()
    await versions.restore(request, scope, row["id"])
    return RedirectResponse(f"{_base(node)}/{row['code']}?done=restored", status_code=303)


routes = [
    Route("/t/{slug}/catalogue", catalogue_list),
    Route("/t/{slug}/catalogue/new", item_new, methods=["GET", "POST"]),
    Route("/t/{slug}/catalogue/{code}", item_page),
    Route("/t/{slug}/catalogue/{code}/edit", item_edit, methods=["GET", "POST"]),
    Route("/t/{slug}/catalogue/{code}/retire", item_retire, methods=["POST"]),
    Route("/t/{slug}/catalogue/{code}/restore", item_restore, methods=["POST"]),
    Route("/t/{slug}/catalogue/{code}/v/{number}", item_version),
]
