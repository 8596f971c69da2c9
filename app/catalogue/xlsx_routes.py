"""The catalogue's .xlsx pages: import template, dry run and confirmation, and the exports.

Import and the catalogue export are for division supervisors at the division
(``catalogue.edit``); a centre's adopted items can be exported by its staff and supervisors.
The checked upload is kept in storage; the confirmation names it and the SHA-256 shown in
the dry run, so a different or altered file is refused and nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.catalogue import imports, xlsx
from app.catalogue.queries import exports
from app.catalogue.queries import templates as queries
from app.catalogue.xlsx_forms import ConfirmForm, UploadForm
from app.catalogue.xlsx_parse import Unreadable
from app.storage import services as storage
from app.storage.filetypes import accept
from app.storage.routes import content_disposition
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.templating import render

DOMAIN = "catalogue-imports"  # storage domain of checked, not yet confirmed, uploads
MAX_BYTES = 5 * 1024 * 1024
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today() -> datetime:
    return datetime.now(SHANGHAI)


def _editor(request: Request) -> tuple[TenantScope, TenantNode]:
    """A division supervisor at the division (403 for managers and clerks)."""
    scope = tenant_scope(request, "catalogue.edit")
    node = tenant_node(request)
    if node.kind != "division" or node.id not in scope.write_ids:
        raise NotFound()
    return scope, node


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=xlsx.XLSX.mime,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def _page(
    request: Request,
    node: TenantNode,
    form: UploadForm | None = None,
    plan: imports.Plan | None = None,
    upload: storage.StoredFileInfo | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    created, changed = request.query_params.get("created"), request.query_params.get("changed")
    done = ""
    if created is not None and changed is not None and created.isdigit() and changed.isdigit():
        done = _(
            "Imported: %(created)s new, %(changed)s changed.",
            created=created,
            changed=changed,
        )
    return await render(
        request,
        "catalogue/import.html",
        {
            "base": f"/t/{node.slug}/catalogue",
            "form": form or UploadForm(),
            "accept": accept((xlsx.XLSX,)) + ",.xlsx",
            "plan": plan,
            "upload": upload,
            "message": message,
            "done": done,
            "headers": xlsx.HEADERS,
        },
        status_code=status_code,
    )


async def import_page(request: Request) -> Response:
    """GET: the upload form.  POST: check the sheet (the dry run) and show the plan."""
    scope, node = _editor(request)
    if request.method == "GET":
        return await _page(request, node)
    form = await UploadForm.from_request(request)
    upload = form.file.data
    try:
        if not _has_file(upload):
            raise storage.UploadRefused(_("Choose a file to upload."))
        await storage.check_upload(upload, (xlsx.XLSX,), MAX_BYTES)  # size, type by content
        data = await upload.read()
        plan = await imports.plan(scope, node.id, data, _today().date())
    except (storage.UploadRefused, Unreadable) as exc:
        form.add_error("file", exc.message)
        return await _page(request, node, form=form, status_code=422)
    if plan.problems:
        return await _page(request, node, form=form, plan=plan, status_code=422)
    stored = None
    if plan.creations or plan.changes:
        stored = await storage.store_bytes(
            scope,
            data,
            domain=DOMAIN,
            filename=upload.filename or "catalogue.xlsx",
            allowed=(xlsx.XLSX,),
            max_bytes=MAX_BYTES,
        )
    return await _page(request, node, form=UploadForm(), plan=plan, upload=stored)


def _has_file(upload: object) -> bool:
    from starlette.datastructures import UploadFile

    return isinstance(upload, UploadFile) and bool(upload.filename or upload.size)


async def import_confirm(request: Request) -> Response:
    """Write the checked sheet, if it is the very file that was checked and still clean."""
    scope, node = _editor(request)
    form = await ConfirmForm.from_request(request)
    refused = _("This is not the sheet that was checked. Upload it again and check it first.")
    if not form.validate():
        return await _page(request, node, message=refused, status_code=422)
    try:
        info = await storage.file_info(scope, form.upload.data, domain=DOMAIN)
    except NotFound:
        return await _page(request, node, message=refused, status_code=422)
    if info.created_by_id != scope.user_id or info.sha256 != form.sha256.data:
        return await _page(request, node, message=refused, status_code=422)
    try:
        data = await (await storage.open_verified(info)).read()
    except storage.FileUnavailable:
        return await _page(request, node, message=refused, status_code=422)
    plan = await imports.confirm(request, scope, node.id, data, _today().date())
    if plan.problems:
        message = _("The catalogue changed since the check: nothing was imported.")
        return await _page(request, node, plan=plan, message=message, status_code=422)
    await storage.delete_file(scope, info.id)
    return RedirectResponse(
        f"/t/{node.slug}/catalogue/import?created={len(plan.creations)}"
        f"&changed={len(plan.changes)}",
        status_code=303,
    )


async def import_template(request: Request) -> Response:
    scope, node = _editor(request)
    departments = await tenancy.departments_of(scope, node.id)
    return xlsx_response(xlsx.import_template(departments), "事项导入模板.xlsx")


async def catalogue_export(request: Request) -> Response:
    """The division's catalogue (newest version of every item) in the import layout."""
    scope, node = _editor(request)
    departments = await tenancy.departments_of(scope, node.id)
    rows = await queries.templates(scope, [node.id])
    latest = await queries.latest_versions(scope, [r["id"] for r in rows])
    items = [
        (r["code"], latest[r["id"]]["content"], latest[r["id"]]["effective_from"])
        for r in rows
        if r["id"] in latest
    ]
    data = xlsx.catalogue_workbook(items, departments)
    return xlsx_response(data, f"{node.name}-事项目录-{_today():%Y%m%d}.xlsx")


async def items_export(request: Request) -> Response:
    """A centre's adopted items: window, A/B posts, limits, local notes."""
    scope = tenant_scope(request, "tenant.view")
    node = tenant_node(request)
    departments = {}
    for owner in [node.id, *request.scope["state"]["tree"].ancestors(node.id)]:
        departments.update(await tenancy.departments_of(scope, owner))
    posts = await accounts.window_posts(scope, node.id)
    rows = []
    for item in await exports.adopted_items(scope, node.id):
        content = item["content"]
        window_posts = posts.get(item["window_id"] or 0, {})
        promised = item["promised_halves"]
        rows.append(
            [
                item["code"],
                content.get("name", ""),
                xlsx.department_name(content.get("department", ""), departments),
                xlsx.KIND_LABELS.get(content.get("kind", ""), ""),
                item["version_number"],
                item["window_name"] or "",
                window_posts.get("A", ""),
                window_posts.get("B", ""),
                xlsx.days(promised if promised is not None else content.get("promised_halves")),
                xlsx.days(content.get("legal_halves")),
                item["local_note"] or "",
                _("Active") if item["active"] and not item["retired_at"] else _("Stopped"),
            ]
        )
    data = xlsx.adopted_workbook(rows)
    return xlsx_response(data, f"{node.name}-本中心事项-{_today():%Y%m%d}.xlsx")


routes = [
    Route("/t/{slug}/catalogue/import", import_page, methods=["GET", "POST"]),
    Route("/t/{slug}/catalogue/import/confirm", import_confirm, methods=["POST"]),
    Route("/t/{slug}/catalogue/import/template.xlsx", import_template),
    Route("/t/{slug}/catalogue/export.xlsx", catalogue_export),
    Route("/t/{slug}/items/export.xlsx", items_export),
]
