"""A centre's documents: the rules compilation (制度汇编) and authorisation letters (授权书).

``GET /t/{slug}/documents`` (``document.view``): in force by kind, letters marked valid /
expiring within 30 days / expired; retired ones folded.  ``GET|POST /documents/new`` and
``POST /documents/{doc_id}`` (``action`` = save | retire) need ``document.manage`` at the
centre itself; ``GET /documents/{doc_id}`` shows the details (and the edit form to
managers); ``GET /documents/{doc_id}/file`` streams the file.  ``GET /documents/gaps``
(supervisors): per centre of the subtree, the departments of its adopted items without a
valid letter.  A document of another centre answers 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.documents import queries, services
from app.documents.forms import DocumentForm, date_errors, entry_of
from app.reports.periods import local_today
from app.storage.routes import file_response
from app.tenancy.scope import TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.templating import render


def _may_manage(scope: TenantScope, tenant_id: int) -> bool:
    return scope.can("document.manage") and tenant_id in scope.write_ids


async def document_list(request: Request) -> Response:
    scope = tenant_scope(request, "document.view")
    node = tenant_node(request)
    today = local_today()
    rows = await queries.documents(scope, node.id)
    retired = await queries.documents(scope, node.id, retired=True)
    for row in rows + retired:
        row["status"] = services.status(row, today)
    return await render(
        request,
        "documents/list.html",
        {
            "rules": [r for r in rows if r["kind"] == "rules"],
            "letters": [r for r in rows if r["kind"] == "authorisation"],
            "retired": retired,
            "may_manage": _may_manage(scope, node.id),
            "may_gaps": bool(scope.supervise_ids)
            and len(tenant_tree(request).subtree(node.id)) > 1,
            "statuses": services.STATUSES,
            "kinds": services.KINDS,
        },
        block="documents",
    )


async def _form_page(
    request: Request,
    scope: TenantScope,
    form: DocumentForm,
    *,
    doc: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    node = tenant_node(request)
    departments, windows = await services.choices(scope, node.id)
    form.fill_choices(departments, windows)
    for name, message in (errors or {}).items():
        if name in form:
            form.add_error(name, message)
    if doc is not None:
        doc["status"] = services.status(doc)
    return await render(
        request,
        "documents/detail.html" if doc is not None else "documents/new.html",
        {
            "form": form,
            "doc": doc,
            "file_error": (errors or {}).get("file", ""),
            "stale": (errors or {}).get("stale", ""),
            "may_manage": _may_manage(scope, node.id),
            "statuses": services.STATUSES,
            "kinds": services.KINDS,
            "notice": {"saved": _("Saved."), "retired": _("Retired.")}.get(
                request.query_params.get("done", ""), ""
            ),
        },
        status_code=status_code,
    )


async def document_new(request: Request) -> Response:
    scope = tenant_scope(request, "document.manage")
    node = tenant_node(request)
    scope.check_write(node.id)
    if request.method == "GET":
        form = DocumentForm()
        if request.query_params.get("kind") == "authorisation":
            form.kind.data = "authorisation"
        return await _form_page(request, scope, form)
    formdata = await request.form()
    form = DocumentForm(formdata=formdata)
    form.validate()
    errors = date_errors(form)
    try:
        if errors:
            raise services.DocumentError(errors)
        doc_id = await services.create(request, scope, entry_of(form, formdata.get("file")))
    except services.DocumentError as exc:
        return await _form_page(
            request, scope, form, errors={**exc.errors, **errors}, status_code=422
        )
    return RedirectResponse(f"/t/{node.slug}/documents/{doc_id}?done=saved", status_code=303)


async def _load(request: Request, scope: TenantScope) -> dict[str, Any]:
    doc = await queries.document(scope, tenant_node(request).id, int_param(request, "doc_id"))
    if doc is None:
        raise NotFound()
    return doc


def _form_of(doc: dict[str, Any]) -> DocumentForm:
    form = DocumentForm(
        kind=doc["kind"],
        title=doc["title"],
        edition=doc["edition"],
        department=str(doc["department_id"] or ""),
        window=str(doc["window_id"] or ""),
        granted_by=doc["granted_by"],
        valid_from=queries._day(doc["valid_from"]),
        valid_until=queries._day(doc["valid_until"]),
        lock_version=str(doc["lock_version"]),
    )
    return form


async def document_detail(request: Request) -> Response:
    scope = tenant_scope(request, "document.view")
    doc = await _load(request, scope)
    node = tenant_node(request)
    if request.method == "GET":
        return await _form_page(request, scope, _form_of(doc), doc=doc)
    if not _may_manage(scope, node.id):
        raise Forbidden()
    formdata = await request.form()
    try:
        lock_version = int(str(formdata.get("lock_version", "")))
    except ValueError:
        lock_version = -1
    if not 0 <= lock_version < 2**31:  # never a number the database cannot compare
        lock_version = -1
    url = f"/t/{node.slug}/documents/{doc['id']}"
    stale = _("Someone else changed this document meanwhile. Check it and save again.")
    if formdata.get("action") == "retire":
        try:
            await services.retire(request, scope, doc, lock_version)
        except services.StaleDocument:
            fresh = await _load(request, scope)
            return await _form_page(
                request, scope, _form_of(fresh), doc=fresh, errors={"stale": stale}, status_code=409
            )
        return RedirectResponse(f"{url}?done=retired", status_code=303)
    form = DocumentForm(formdata=formdata)
    form.validate()
    form.kind.data = doc["kind"]
    errors = date_errors(form)
    try:
        if errors:
            raise services.DocumentError(errors)
        await services.update(
            request, scope, doc, entry_of(form, formdata.get("file")), lock_version
        )
    except services.DocumentError as exc:
        return await _form_page(
            request, scope, form, doc=doc, errors={**exc.errors, **errors}, status_code=422
        )
    except services.StaleDocument:
        fresh = await _load(request, scope)
        form.lock_version.data = str(fresh["lock_version"])
        return await _form_page(
            request, scope, form, doc=fresh, errors={"stale": stale}, status_code=409
        )
    return RedirectResponse(f"{url}?done=saved", status_code=303)


async def document_file(request: Request) -> Response:
    scope = tenant_scope(request, "document.view")
    doc = await _load(request, scope)
    return await file_response(request, scope, int(doc["file_id"]), domain=services.DOMAIN)


async def document_gaps(request: Request) -> Response:
    scope = tenant_scope(request, "document.view")
    if not scope.supervise_ids:
        raise Forbidden()
    node = tenant_node(request)
    rows = await services.gaps(scope, tenant_tree(request), node.id)
    return await render(
        request,
        "documents/gaps.html",
        {"gaps": rows, "lacking": sum(1 for g in rows if g.missing)},
        block="gaps",
    )


routes: list[BaseRoute] = [
    Route("/t/{slug}/documents", document_list, methods=["GET"]),
    Route("/t/{slug}/documents/new", document_new, methods=["GET", "POST"]),
    Route("/t/{slug}/documents/gaps", document_gaps, methods=["GET"]),
    Route("/t/{slug}/documents/{doc_id}", document_detail, methods=["GET", "POST"]),
    Route("/t/{slug}/documents/{doc_id}/file", document_file, methods=["GET"]),
]
