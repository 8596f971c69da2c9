"""Ledger pages of the inspection flow: evidence, the inspector's verification and 督办.

``POST /t/{slug}/rectifications/{rectification_id}/evidence`` — the centre's answer (note +
files, multipart; ``ledger.manage`` at the item's centre).  A refusal re-renders the item
with 422, the message and the typed note kept.
``GET /t/{slug}/rectifications/{rectification_id}/evidence/{evidence_id}`` — one evidence
file, streamed after the scope check (the centre and its supervisors).
``POST /t/{slug}/rectifications/{rectification_id}/verify`` — ``decision`` accept | reject
and ``note``; a supervisor of the centre with ``inspection.verify`` (403 for others).
``POST /t/{slug}/cases/{case_id}/supervise`` — 督办 on a red-light case (``case.supervise``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from wtforms import IntegerField, TextAreaField
from wtforms.validators import Optional

from app.cases import ledger, ledger_evidence, ledger_supervise
from app.cases.ledger_item import AnswerForm, VerifyForm, item_page
from app.cases.queries import core as case_queries
from app.storage.routes import file_response
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render


class SuperviseForm(Form):
    days = IntegerField(
        _l("Time allowed (working days)"),
        [Optional()],
        default=ledger_supervise.DEFAULT_DAYS,
    )
    note = TextAreaField(_l("Supervision note"), filters=[strip])


def _item_url(request: Request, item_id: int) -> str:
    return f"/t/{tenant_node(request).slug}/rectifications/{item_id}"


async def evidence_post(request: Request) -> Response:
    scope = tenant_scope(request, "ledger.view")
    item_id = int_param(request, "rectification_id")
    item = await ledger.load(scope, item_id)
    ledger.require_act(scope, item)  # 403 for a reader, 404 for another centre's item
    formdata = await request.form()
    form = AnswerForm(formdata=formdata)
    uploads = ledger_evidence.chosen_files(formdata.getlist("files"))
    try:
        await ledger_evidence.answer(request, scope, item_id, form.note.data or "", uploads)
    except ledger.LedgerError as exc:
        field_errors = {}
        if exc.field == "note":
            form.add_error("note", exc.message)
        elif exc.field:
            field_errors[exc.field] = exc.message
        item = await ledger.load(scope, item_id)
        return await item_page(
            request,
            scope,
            item,
            answer_form=form,
            files_error=field_errors.get("files", ""),
            error="" if exc.field else exc.message,
            status_code=422,
        )
    return RedirectResponse(f"{_item_url(request, item_id)}?done=answer", status_code=303)


async def evidence_get(request: Request) -> Response:
    scope = tenant_scope(request, "ledger.view")
    owner_scope, file_id = await ledger_evidence.evidence_file(
        scope, int_param(request, "rectification_id"), int_param(request, "evidence_id")
    )
    return await file_response(request, owner_scope, file_id, domain=ledger_evidence.DOMAIN)


async def verify_post(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.verify")
    item_id = int_param(request, "rectification_id")
    form = await VerifyForm.from_request(request)
    try:
        await ledger_evidence.verify(
            request, scope, item_id, form.decision.data or "", form.note.data or ""
        )
    except ledger.LedgerError as exc:
        if exc.field:
            form.add_error(exc.field, exc.message)
        item = await ledger.load(scope, item_id)
        return await item_page(
            request,
            scope,
            item,
            verify_form=form,
            error="" if exc.field else exc.message,
            status_code=422,
        )
    return RedirectResponse(f"{_item_url(request, item_id)}?done=verify", status_code=303)


async def supervise_post(request: Request) -> Response:
    scope = tenant_scope(request, "case.supervise")
    case = await case_queries.case(scope, int_param(request, "case_id"))
    if case is None:
        raise NotFound()
    form = await SuperviseForm.from_request(request)
    slug = tenant_node(request).slug
    error = ""
    form.validate()
    if form.days.raw_data and form.days.raw_data[0] and form.days.errors:
        form.days.errors = [_("Enter a whole number of working days.")]
    else:
        days = form.days.data if form.days.data is not None else ledger_supervise.DEFAULT_DAYS
        try:
            opened = await ledger_supervise.supervise(
                request, scope, case, days, form.note.data or ""
            )
        except ledger_supervise.AlreadySupervised as exc:
            return RedirectResponse(
                f"/t/{slug}/rectifications/{exc.item_id}?done=already", status_code=303
            )
        except ledger.LedgerError as exc:
            if exc.field:
                form.add_error(exc.field, exc.message)
            else:
                error = exc.message
        else:
            await ledger_supervise.tell(
                tenant_tree(request),
                opened,
                case["tenant_slug"],
                form.note.data or _("Rectify the overdue case and answer in the ledger."),
            )
            return RedirectResponse(
                f"/t/{slug}/rectifications/{opened.item_id}?done=supervise", status_code=303
            )
    return await render(
        request,
        "cases/ledger_supervise.html",
        {"case": case, "form": form, "error": error, "max_days": ledger_supervise.MAX_DAYS},
        status_code=422,
    )


routes = [
    Route(
        "/t/{slug}/rectifications/{rectification_id:int}/evidence",
        evidence_post,
        methods=["POST"],
    ),
    Route(
        "/t/{slug}/rectifications/{rectification_id:int}/evidence/{evidence_id:int}",
        evidence_get,
        methods=["GET"],
    ),
    Route("/t/{slug}/rectifications/{rectification_id:int}/verify", verify_post, methods=["POST"]),
    Route("/t/{slug}/cases/{case_id:int}/supervise", supervise_post, methods=["POST"]),
]
