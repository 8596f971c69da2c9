"""The division's checklists (督促检查表) in the browser: the list, a checklist's page (any
version), the editor for a new checklist or a new version, and retiring.

Readers need ``inspection.view``: the division's supervisors and the centres' managers see
their division's checklists (shared down the tree); a checklist of another division is a
404.  Defining needs ``inspection.define`` at the division that owns it (403 without the
capability, 404 anywhere else).  Saving makes a new version only when the definition changed;
a saved version never changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.accounts import audit
from app.inspections import checklist_forms as forms
from app.inspections import checklists as services
from app.inspections.queries import checklists as queries
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE = {
    "created": _l("The checklist is created as version 1."),
    "versioned": _l("Saved as a new version."),
    "unchanged": _l(
        "Nothing changed: the definition equals the newest version, so no new version was made."
    ),
    "retired": _l("The checklist is retired: no new inspection can use it."),
    "restored": _l("The checklist is in use again."),
}


def today() -> date:
    return datetime.now(SHANGHAI).date()


def _base(node: TenantNode) -> str:
    return f"/t/{node.slug}/checklists"


def _can_define(scope: TenantScope, node: TenantNode) -> bool:
    return scope.can("inspection.define") and node.kind == "division" and node.id in scope.write_ids


def _definer(request: Request) -> tuple[TenantScope, TenantNode]:
    scope = tenant_scope(request, "inspection.define")  # 403 for managers and clerks
    node = tenant_node(request)
    if not _can_define(scope, node):
        raise NotFound()
    return scope, node


async def _readable(request: Request, scope: TenantScope) -> dict[str, Any]:
    """A checklist of this tenant's own division (or itself): anything else is a 404."""
    record = await queries.checklist(scope, int_param(request, "checklist_id"))
    if record is None or record["tenant_id"] not in scope.shared_ids:
        raise NotFound()
    return record


async def _own(request: Request, scope: TenantScope, node: TenantNode) -> dict[str, Any]:
    record = await _readable(request, scope)
    if record["tenant_id"] != node.id:
        raise NotFound()
    return record


def _labels() -> dict[str, Any]:
    return {"kinds": services.KINDS}


# --- reading ------------------------------------------------------------------------------


async def checklist_list(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.view")
    node = tenant_node(request)
    rows = []
    for record in await queries.checklists(scope, sorted(scope.shared_ids)):
        found = await queries.versions(scope, record["id"])
        if not found:
            continue
        in_force = next((v for v in found if v["effective_from"] <= today()), None)
        rows.append({"checklist": record, "newest": found[0], "in_force": in_force})
    return await render(
        request,
        "inspections/checklists.html",
        {"rows": rows, "base": _base(node), "can_define": _can_define(scope, node), **_labels()},
    )


async def checklist_page(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.view")
    node = tenant_node(request)
    if request.method == "POST":
        return await _retire(request)
    record = await _readable(request, scope)
    found = await queries.versions(scope, record["id"])
    if not found:
        raise NotFound()
    wanted = request.query_params.get("v", "")
    version: dict[str, Any] | None = found[0]
    if wanted:
        version = next((v for v in found if str(v["number"]) == wanted), None)
    if version is None:
        raise NotFound()
    in_force = next((v for v in found if v["effective_from"] <= today()), None)
    return await render(
        request,
        "inspections/checklist.html",
        {
            "record": record,
            "version": version,
            "definition": version["definition"],
            "versions": found,
            "in_force": in_force,
            "base": _base(node),
            "can_define": _can_define(scope, node) and record["tenant_id"] == node.id,
            "done": DONE.get(request.query_params.get("done", "")),
            **_labels(),
        },
    )


async def _retire(request: Request) -> Response:
    scope, node = _definer(request)
    record = await _own(request, scope, node)
    action = str((await request.form()).get("action") or "")
    if action not in ("retire", "restore"):
        raise NotFound()
    changed = await services.retire(scope, record, retired=action == "retire")
    if changed:
        async with db.write(scope):
            await audit.record(
                request,
                f"checklist.{'retired' if action == 'retire' else 'restored'}",
                tenant_id=node.id,
                object_type="checklist",
                object_id=record["id"],
                code=record["code"],
            )
    done = "retired" if action == "retire" else "restored"
    return RedirectResponse(f"{_base(node)}/{record['id']}?done={done}", status_code=303)


# --- editing ------------------------------------------------------------------------------


async def _editor_page(
    request: Request, editor: forms.Editor, ctx: dict[str, Any], status_code: int = 200
) -> Response:
    return await render(
        request,
        "inspections/checklist_edit.html",
        {"editor": editor, **_labels(), **ctx},
        status_code=status_code,
    )


async def checklist_new(request: Request) -> Response:
    scope, node = _definer(request)
    ctx: dict[str, Any] = {"base": _base(node), "record": None, "action": f"{_base(node)}/new"}
    if request.method == "GET":
        editor = forms.Editor(effective_from=today().isoformat(), sections=[forms.blank_section()])
        return await _editor_page(request, editor, ctx)
    editor, more = forms.parse(await request.form())
    if more:
        return await _editor_page(request, editor, ctx)
    data, day = forms.check(editor, new=True, earliest=None)
    if not editor.errors and not editor.general:
        if await queries.checklist_by_code(scope, node.id, editor.code):
            editor.add("code", _("Another checklist of the division already uses this code."))
    if editor.errors or editor.general or day is None:
        return await _editor_page(request, editor, ctx, 422)
    try:
        checklist_id = await services.create_checklist(
            scope,
            node.id,
            editor.code,
            editor.title,
            editor.kind,
            data,
            day,
            change_note=editor.change_note,
        )
    except services.DefinitionError as exc:
        editor.general.extend(exc.problems)
        return await _editor_page(request, editor, ctx, 422)
    async with db.write(scope):
        await audit.record(
            request,
            "checklist.created",
            tenant_id=node.id,
            object_type="checklist",
            object_id=checklist_id,
            code=editor.code,
            version=1,
            effective_from=day.isoformat(),
        )
    return RedirectResponse(f"{_base(node)}/{checklist_id}?done=created", status_code=303)


async def checklist_edit(request: Request) -> Response:
    scope, node = _definer(request)
    record = await _own(request, scope, node)
    found = await queries.versions(scope, record["id"])
    if not found:
        raise NotFound()
    newest = found[0]
    earliest = max(today(), newest["effective_from"])
    ctx: dict[str, Any] = {
        "base": _base(node),
        "record": record,
        "newest": newest,
        "action": f"{_base(node)}/{record['id']}/edit",
    }
    if request.method == "GET":
        editor = forms.Editor(
            title=record["title"],
            effective_from=earliest.isoformat(),
            expected=str(record["current_version"]),
            sections=forms.from_definition(newest["definition"]),
        )
        return await _editor_page(request, editor, ctx)
    editor, more = forms.parse(await request.form())
    if more:
        return await _editor_page(request, editor, ctx)
    data, day = forms.check(editor, new=False, earliest=earliest)
    if editor.errors or editor.general or day is None:
        return await _editor_page(request, editor, ctx, 422)
    expected = (
        int(editor.expected)
        if editor.expected.isascii() and editor.expected.isdigit() and len(editor.expected) < 10
        else -1
    )
    try:
        number = await services.save_version(
            scope,
            record,
            data,
            day,
            expected=expected,
            change_note=editor.change_note,
            title=editor.title,
        )
    except services.DefinitionError as exc:
        editor.general.extend(exc.problems)
        return await _editor_page(request, editor, ctx, 422)
    except services.VersionConflict:
        current = (await queries.versions(scope, record["id"]))[0]
        editor.general.append(
            _(
                "Version %(n)s was saved meanwhile, so yours was not. Your input is kept below:"
                " compare it with version %(n)s, then open the editor again.",
                n=current["number"],
            )
        )
        ctx["conflict"] = current
        return await _editor_page(request, editor, ctx, 409)
    if number is not None:
        async with db.write(scope):
            await audit.record(
                request,
                "checklist.versioned",
                tenant_id=node.id,
                object_type="checklist",
                object_id=record["id"],
                code=record["code"],
                version=number,
                effective_from=day.isoformat(),
            )
    done = "versioned" if number is not None else "unchanged"
    return RedirectResponse(f"{_base(node)}/{record['id']}?done={done}", status_code=303)


routes = [
    Route("/t/{slug}/checklists", checklist_list),
    Route("/t/{slug}/checklists/new", checklist_new, methods=["GET", "POST"]),
    Route("/t/{slug}/checklists/{checklist_id}", checklist_page, methods=["GET", "POST"]),
    Route("/t/{slug}/checklists/{checklist_id}/edit", checklist_edit, methods=["GET", "POST"]),
]
