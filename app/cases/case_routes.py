"""The case page: facts, applicant (masked; unmasked on request, audited), materials and their
files, documents, timeline, and one POST route per workflow action.

An action answers the case body to htmx (its ``#case-body`` is swapped) and a 303 back to
the page otherwise; a refused action (``WorkflowError``) re-renders the page with 422 and the
message in that action's form.  ``Forbidden``/``NotFound`` propagate (403/404).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.accounts import audit
from app.cases import actions, case_view, intake, workflow
from app.cases import desk_forms as forms
from app.cases.queries import core as queries
from app.cases.queries import desk as desk_queries
from app.cases.timeline import Actor, check
from app.storage.routes import file_response
from app.storage.services import UploadRefused, accept_upload, delete_file
from app.tenancy.scope import TenantScope
from app.web.auth import current_user, int_param, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.forms import Form
from app.web.i18n import gettext as _
from app.web.templating import is_htmx, render


async def load(scope: TenantScope, request: Request) -> dict[str, Any]:
    """The case of the path (``case_id``) if the scope may read it; 404 otherwise."""
    case = await queries.case(scope, int_param(request, "case_id"))
    if case is None:
        raise NotFound()
    return case


def case_url(request: Request, case_id: int) -> str:
    return f"/t/{tenant_node(request).slug}/cases/{case_id}"


async def page(
    request: Request,
    scope: TenantScope,
    case: dict[str, Any],
    *,
    status: int = 200,
    block: str = "content",
    **kwargs: Any,
) -> Response:
    ctx = await case_view.context(scope, case, **kwargs)
    ctx["case_url"] = case_url(request, case["id"])
    return await render(
        request,
        "cases/case.html",
        ctx,
        block=block if is_htmx(request) else None,
        status_code=status,
    )


async def show(request: Request) -> Response:
    """GET the case page (``?done=<action>`` after a form without JavaScript)."""
    scope = tenant_scope(request, "case.view")
    case = await load(scope, request)
    done = request.query_params.get("done", "")
    label = "registered" if done == "registered" else case_view.LABELS.get(done)
    return await page(request, scope, case, done=str(label) if label else "")


async def unmask(request: Request) -> Response:
    """POST: show the applicant in full (capability ``case.unmask``), written to the audit log."""
    scope = tenant_scope(request, "case.view")
    case = await load(scope, request)
    scope.require("case.unmask")
    async with db.write(scope):  # the audit row is the case centre's (a supervisor reads it)
        await audit.record(
            request,
            "case.unmasked",
            tenant_id=case["tenant_id"],
            object_type="case",
            object_id=case["id"],
            number=case["number"],
        )
    return await page(request, scope, case, unmasked=True, block="applicant")


async def download(request: Request) -> Response:
    """GET a material file of the case (only files attached to this very case)."""
    scope = tenant_scope(request, "case.view")
    case = await load(scope, request)
    file_id = int_param(request, "file_id")
    if await desk_queries.case_file(scope, case["id"], file_id) is None:
        raise NotFound()
    # The file belongs to the case's centre (an escalated case is read from the parent).
    owner_scope = dataclasses.replace(scope, tenant_id=case["tenant_id"])
    return await file_response(request, owner_scope, file_id, domain="cases")


# --- actions ---------------------------------------------------------------------------------


async def store_uploads(
    scope: TenantScope, formdata: FormData, lines: list[dict[str, Any]]
) -> list[tuple[int | None, int]]:
    """Store every chosen file (outside any transaction); on a refusal delete what was stored
    and raise ``WorkflowError`` on that material line."""
    stored: list[tuple[int | None, int]] = []
    for position, upload in forms.uploads(formdata, lines):
        try:
            info = await accept_upload(scope, upload, domain="cases")
        except UploadRefused as exc:
            await forget(scope, stored)
            raise workflow.WorkflowError(
                f"{upload.filename}: {exc.message}", f"material_{position}"
            ) from None
        stored.append((position, info.id))
    return stored


async def forget(scope: TenantScope, stored: list[tuple[int | None, int]]) -> None:
    for _position, file_id in stored:
        await delete_file(scope, file_id)


async def run(name: str, scope: TenantScope, case_id: int, actor: Actor, form: Any) -> None:
    """Carry out one validated action form through the services."""
    if name == "notice":
        await intake.issue_notice(
            scope,
            case_id,
            actor,
            reason=form.reason.data or "",
            supplement_days=form.supplement_days.data or intake.DEFAULT_SUPPLEMENT_DAYS,
        )
    elif name == "accept":
        await intake.accept(scope, case_id, actor, form.note.data or "")
    elif name == "refuse":
        await intake.refuse(scope, case_id, actor, form.reason.data or "")
    elif name == "review":
        await actions.start_review(scope, case_id, actor, form.note.data or "")
    elif name == "sign":
        await actions.sign(scope, case_id, actor, form.department.data or "", form.note.data or "")
    elif name == "submit":
        await actions.submit(scope, case_id, actor, form.note.data or "")
    elif name == "decide":
        await actions.decide(
            scope,
            case_id,
            actor,
            form.decision.data or "",
            forms.form_id(form.seal.data),
            form.reason.data or "",
        )
    elif name == "return":
        await actions.return_case(scope, case_id, actor, form.reason.data or "")
    elif name == "pause":
        await actions.pause(scope, case_id, actor, form.reason.data or "", form.note.data or "")
    elif name == "resume":
        await actions.resume(scope, case_id, actor, form.note.data or "")
    elif name == "extend":
        await actions.extend(scope, case_id, actor, int(form.days.data), form.reason.data or "")
    elif name == "deliver":
        await actions.deliver(
            scope,
            case_id,
            actor,
            form.method.data or "",
            form.delivered_on.data,
            form.recipient.data or "",
            form.note.data or "",
        )
    elif name == "flags":
        await actions.set_flags(
            scope, case_id, actor, bool(form.urgent.data), bool(form.green_channel.data)
        )
    else:  # pragma: no cover - the routes list only known names
        raise NotFound()


async def act(request: Request, name: str) -> Response:
    """POST one workflow action (``name`` is the URL segment, see ``ACTION_FORMS``)."""
    scope = tenant_scope(request, "case.view")
    case = await load(scope, request)
    workflow_name, cls = forms.ACTION_FORMS[name]
    scope.require(workflow.ACTIONS[workflow_name].capability)
    formdata = await request.form()
    form: Form = cls(formdata, prefix=name)
    actor = Actor.of(current_user(request))
    lines = None
    messages: list[str] = []
    try:
        check(scope, case, workflow_name)  # 403/404 propagate; a stale state is a 422
        if name == "supplement":
            materials = await queries.materials(scope, case["id"])
            current = {m["position"]: m for m in materials}
            lines = forms.material_lines(materials, formdata, current)
            stored = await store_uploads(scope, formdata, lines)
            try:
                await intake.update_materials(
                    scope, case["id"], actor, forms.material_checks(lines), files=stored
                )
            except BaseException:
                await forget(scope, stored)
                raise
        elif not form.validate():
            raise workflow.WorkflowError("")
        else:
            await run(name, scope, case["id"], actor, form)
    except workflow.WorkflowError as exc:
        if exc.message:
            if lines is not None and forms.set_line_error(lines, exc.field, exc.message):
                pass
            elif exc.field and exc.field in form:
                form.add_error(exc.field, exc.message)
            else:
                messages.append(exc.message)
        if lines is not None and forms.uploads(formdata, lines):
            messages.append(_("The files you chose were not saved: choose them again."))
        error = (name, " ".join(messages)) if messages else None
        fresh = await queries.case(scope, case["id"]) or case
        return await page(
            request,
            scope,
            fresh,
            status=422,
            block="case_body",
            posted=(name, form),
            error=error,
            lines=lines,
        )
    if not is_htmx(request):
        return RedirectResponse(f"{case_url(request, case['id'])}?done={name}", status_code=303)
    updated = await queries.case(scope, case["id"])
    if updated is None:  # pragma: no cover - it was readable a moment ago
        raise NotFound()
    return await page(request, scope, updated, block="case_body", done=str(case_view.LABELS[name]))


def _action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return await act(request, name)

    endpoint.__name__ = f"case_{name}"
    return endpoint


routes = [
    Route("/t/{slug}/cases/{case_id:int}", show, methods=["GET"]),
    Route("/t/{slug}/cases/{case_id:int}/unmask", unmask, methods=["POST"]),
    Route("/t/{slug}/cases/{case_id:int}/files/{file_id:int}", download, methods=["GET"]),
    *(
        Route(f"/t/{{slug}}/cases/{{case_id:int}}/{name}", _action(name), methods=["POST"])
        for name in forms.ACTION_FORMS
    ),
]
