"""Circular (通报) pages.

``GET /t/{slug}/circulars``: at an issuing tenant the circulars it issued with read counts
(已读 3/5); the circulars addressed to this tenant, unread first.
``GET|POST /t/{slug}/circulars/new`` (``circular.issue``; ``?link=inspection:<id>`` or
``?link=league:<yyyy-mm>`` pre-fills the linked results).
``GET /t/{slug}/circulars/{circular_id}``: the text, files and linked results; at the issuer
who has and has not acknowledged it; at a recipient the acknowledge form (managers).
``POST …/{circular_id}/acknowledge`` (``circular.acknowledge``, once, audited);
``GET …/{circular_id}/files/{attachment_id}`` streams a file to the issuer or a recipient.
A circular that ``slug`` neither issued nor received answers 404.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.circulars import queries, services
from app.circulars.forms import AcknowledgeForm, CircularForm, chosen_ids, draft_of
from app.storage.routes import file_response
from app.tenancy.scope import TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.templating import render


def file_scope(scope: TenantScope, issuer_id: int) -> TenantScope:
    """Reading the issuer's stored files, once the caller has checked this request may (it
    is the issuer, or a recipient through its own receipt): only the issuer's id is read."""
    own = frozenset({issuer_id})
    return dataclasses.replace(scope, tenant_id=issuer_id, read_ids=own, write_ids=frozenset())


async def circular_list(request: Request) -> Response:
    scope = tenant_scope(request, "circular.view")
    node = tenant_node(request)
    tree = tenant_tree(request)
    issued = await queries.issued(scope, node.id)
    may_issue = scope.can("circular.issue") and bool(services.recipients_of(tree, node.id))
    received = await queries.received(scope, node.id)
    unread = sum(1 for r in received if r["acknowledged_at"] is None)
    return await render(
        request,
        "circulars/list.html",
        {"issued": issued, "received": received, "unread": unread, "may_issue": may_issue},
        block="circulars",
    )


async def _form_page(
    request: Request,
    scope: TenantScope,
    form: CircularForm,
    *,
    chosen: list[int],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    tree = tenant_tree(request)
    node = tenant_node(request)
    errors = errors or {}
    for name in ("title", "body", "link", "recipients"):
        if name in errors:
            form.add_error(name, errors[name])
    preview: dict[str, Any] = {}
    if form.link.data and "link" not in errors:
        try:
            preview = await services.resolve_link(scope, tree, form.link.data)
        except services.CircularError as exc:
            form.add_error("link", exc.errors["link"])
    return await render(
        request,
        "circulars/new.html",
        {
            "form": form,
            "centres": services.recipients_of(tree, node.id),
            "chosen": set(chosen),
            "preview": preview,
            "files_error": errors.get("files", ""),
            "max_files": services.MAX_FILES,
        },
        status_code=status_code,
    )


async def circular_new(request: Request) -> Response:
    scope = tenant_scope(request, "circular.issue")
    node = tenant_node(request)
    if node.id not in scope.write_ids:  # a supervisor looking at a centre issues from home
        raise Forbidden()
    if request.method == "GET":
        form = CircularForm()
        form.link.data = request.query_params.get("link", "").strip()[:40]
        return await _form_page(request, scope, form, chosen=[])
    formdata = await request.form()
    form = CircularForm(formdata=formdata)
    draft = draft_of(form, formdata)
    try:
        circular_id = await services.issue(request, scope, tenant_tree(request), draft)
    except services.CircularError as exc:
        return await _form_page(
            request, scope, form, chosen=chosen_ids(formdata), errors=exc.errors, status_code=422
        )
    return RedirectResponse(f"/t/{node.slug}/circulars/{circular_id}?done=issued", status_code=303)


async def _detail(
    request: Request,
    scope: TenantScope,
    circular_id: int,
    *,
    ack_form: AcknowledgeForm | None = None,
    status_code: int = 200,
) -> Response:
    node = tenant_node(request)
    role, circular = await services.load(scope, node.id, circular_id)
    files = await queries.attachments(
        file_scope(scope, circular["tenant_id"]), circular["tenant_id"], circular_id
    )
    receipts: list[dict[str, Any]] = []
    if role == "issuer":
        receipts = await queries.receipts(scope, circular_id)
    may_ack = (
        role == "recipient"
        and circular["acknowledged_at"] is None
        and scope.can("circular.acknowledge")
        and node.id in scope.write_ids
    )
    done = request.query_params.get("done", "")
    notice = {"issued": _("The circular is issued."), "ack": _("Marked as read.")}.get(done, "")
    return await render(
        request,
        "circulars/detail.html",
        {
            "role": role,
            "circular": circular,
            "paragraphs": services.paragraphs(circular["body"]),
            "files": files,
            "receipts": receipts,
            "read": [r for r in receipts if r["acknowledged_at"] is not None],
            "unread_receipts": [r for r in receipts if r["acknowledged_at"] is None],
            "linked": circular["linked"] or {},
            "may_ack": may_ack,
            "ack_form": ack_form or AcknowledgeForm(),
            "notice": notice,
        },
        status_code=status_code,
    )


async def circular_detail(request: Request) -> Response:
    scope = tenant_scope(request, "circular.view")
    return await _detail(request, scope, int_param(request, "circular_id"))


async def circular_acknowledge(request: Request) -> Response:
    scope = tenant_scope(request, "circular.view")
    node = tenant_node(request)
    circular_id = int_param(request, "circular_id")
    role, _circular = await services.load(scope, node.id, circular_id)
    if role != "recipient":
        raise NotFound()
    scope.require("circular.acknowledge")
    form = await AcknowledgeForm.from_request(request)
    note = form.note.data or ""
    if len(note) > 500:
        form.add_error("note", _("At most %(n)d characters.", n=500))
        return await _detail(request, scope, circular_id, ack_form=form, status_code=422)
    await services.acknowledge(request, scope, node.id, circular_id, note)
    return RedirectResponse(f"/t/{node.slug}/circulars/{circular_id}?done=ack", status_code=303)


async def circular_file(request: Request) -> Response:
    scope = tenant_scope(request, "circular.view")
    node = tenant_node(request)
    circular_id = int_param(request, "circular_id")
    attachment_id = int_param(request, "attachment_id")
    _role, circular = await services.load(
        scope, node.id, circular_id
    )  # 404 unless issuer/recipient
    reader = file_scope(scope, circular["tenant_id"])
    found = await queries.attachment(reader, circular["tenant_id"], circular_id, attachment_id)
    if found is None:
        raise NotFound()
    return await file_response(request, reader, int(found["file"]), domain=services.DOMAIN)


routes: list[BaseRoute] = [
    Route("/t/{slug}/circulars", circular_list, methods=["GET"]),
    Route("/t/{slug}/circulars/new", circular_new, methods=["GET", "POST"]),
    Route("/t/{slug}/circulars/{circular_id}", circular_detail, methods=["GET"]),
    Route("/t/{slug}/circulars/{circular_id}/acknowledge", circular_acknowledge, methods=["POST"]),
    Route(
        "/t/{slug}/circulars/{circular_id}/files/{attachment_id}",
        circular_file,
        methods=["GET"],
    ),
]
