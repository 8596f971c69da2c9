"""The rectification ledger (整改台账) pages: the list and one item with its step forms.

``GET /t/{slug}/rectifications`` lists the ledger (``ledger.view``): the centre's own, or for
a supervisor its whole subtree (filter ``centre``), filtered by ``state`` (open / closed /
all), ``source`` and ``overdue``; an htmx request gets the ``rows`` block.
``GET /t/{slug}/rectifications/{rectification_id}`` shows one item; ``POST`` to the same
address takes the next step (``step`` = verify / fix / callback / outcome) or the one
extension (``step`` = extend) — ``ledger.manage`` at the item's own centre.  Finding and 督办
items are answered with evidence and verified by the inspector instead
(:mod:`app.cases.ledger_flow_routes`); the division's overview is
:mod:`app.cases.ledger_overview`.  Success answers
303 back to the item; a refused step re-renders it with 422 and the message in its form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.cases import ledger, ledger_evidence, ledger_flow_routes, ledger_overview
from app.cases.ledger_item import ExtendForm, StepForm, item_page
from app.cases.queries import ledger as queries
from app.tenancy.scope import TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

PAGE_SIZE = 50
FILTER_STATES = {
    "open": _l("Not closed"),
    "answered": _l("Awaiting verification"),
    "closed": _l("Closed"),
    "all": _l("All"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _centres(request: Request, scope: TenantScope) -> list[Any]:
    """The centres whose ledgers this scope reads (the own first, then its subtree)."""
    tree = tenant_tree(request)
    own = tenant_node(request)
    others = sorted(
        (n for n in tree.nodes.values() if n.id in scope.read_ids and n.id != own.id),
        key=lambda n: n.slug,
    )
    return [own, *others] if own.id in scope.read_ids else others


async def rectification_list(request: Request) -> Response:
    scope = tenant_scope(request, "ledger.view")
    params = request.query_params
    state = params.get("state", "open")
    if state not in FILTER_STATES:
        state = "open"
    source = params.get("source", "")
    if source not in ledger.SOURCES:
        source = ""
    overdue = params.get("overdue", "") == "1"
    centres = _centres(request, scope)
    centre = params.get("centre", "")
    chosen = [n for n in centres if n.slug == centre]
    if not chosen:
        centre = ""
    tenant_ids = [n.id for n in (chosen or centres)]
    try:
        page = max(1, min(int(params.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    now = _now()
    total = await queries.count(
        scope, tenant_ids, state=state, source=source, overdue=overdue, now=now
    )
    rows = await queries.rectifications(
        scope,
        tenant_ids,
        state=state,
        source=source,
        overdue=overdue,
        now=now,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    counts = {
        "open": await queries.count(scope, tenant_ids, state="open", now=now),
        "overdue": await queries.count(scope, tenant_ids, state="open", overdue=True, now=now),
        "closed": await queries.count(scope, tenant_ids, state="closed", now=now),
    }
    for row in rows:
        row["overdue"] = ledger.is_overdue(row, now)
        row["state_label"] = ledger_evidence.state_label(row)
    query = {"state": state, "source": source, "overdue": "1" if overdue else "", "centre": centre}
    base = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return await render(
        request,
        "cases/ledger_list.html",
        {
            "rows": rows,
            "total": total,
            "counts": counts,
            "page": page,
            "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            "base_query": base,
            "state": state,
            "source": source,
            "overdue": overdue,
            "centre": centre,
            "centres": centres if len(centres) > 1 else [],
            "filter_states": FILTER_STATES,
            "sources": ledger.SOURCES,
            "states": ledger.STATES,
            "outcomes": ledger.OUTCOMES,
        },
        block="rows",
    )


async def _item_page(
    request: Request,
    scope: TenantScope,
    item: dict[str, Any],
    *,
    step_form: StepForm | None = None,
    extend_form: ExtendForm | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    return await item_page(
        request,
        scope,
        item,
        step_form=step_form or StepForm(),
        extend_form=extend_form or ExtendForm(),
        error=error,
        status_code=status_code,
    )


async def rectification(request: Request) -> Response:
    scope = tenant_scope(request, "ledger.view")
    item_id = int_param(request, "rectification_id")
    item = await ledger.load(scope, item_id)
    if request.method == "GET":
        return await _item_page(request, scope, item)
    if not ledger.may_act(scope, item):
        raise Forbidden()
    form = await request.form()
    step = str(form.get("step", ""))
    url = f"/t/{tenant_node(request).slug}/rectifications/{item_id}"
    if step == "extend":
        extend_form = ExtendForm(formdata=form)
        extend_form.validate()
        if extend_form.days.errors:
            extend_form.days.errors = [_("Enter a whole number of working days.")]
            return await _item_page(request, scope, item, extend_form=extend_form, status_code=422)
        try:
            await ledger.extend(
                request, scope, item_id, extend_form.days.data, extend_form.reason.data or ""
            )
        except ledger.LedgerError as exc:
            if exc.field:
                extend_form.add_error(exc.field, exc.message)
            item = await ledger.load(scope, item_id)
            return await _item_page(
                request,
                scope,
                item,
                extend_form=extend_form,
                error="" if exc.field else exc.message,
                status_code=422,
            )
        return RedirectResponse(f"{url}?done=extend", status_code=303)
    if step not in ledger.STEPS:
        raise NotFound()
    step_form = StepForm(formdata=form)
    try:
        await ledger.take_step(
            request, scope, item_id, step, step_form.note.data or "", step_form.outcome.data or ""
        )
    except ledger.LedgerError as exc:
        if exc.field:
            step_form.add_error(exc.field, exc.message)
        item = await ledger.load(scope, item_id)
        return await _item_page(
            request,
            scope,
            item,
            step_form=step_form,
            error="" if exc.field else exc.message,
            status_code=422,
        )
    return RedirectResponse(f"{url}?done={step}", status_code=303)


routes = [
    Route("/t/{slug}/rectifications", rectification_list, methods=["GET"]),
    *ledger_overview.routes,
    Route(
        "/t/{slug}/rectifications/{rectification_id:int}",
        rectification,
        methods=["GET", "POST"],
    ),
    *ledger_flow_routes.routes,
]
