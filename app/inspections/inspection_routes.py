"""Inspection pages (督促检查).

``GET /t/{slug}/inspections`` — the list (``inspection.view``): at a division its subtree's
inspections (filters ``centre``, ``state``, ``month`` = yyyy-mm), at a centre its own
submitted ones; an htmx request gets the ``rows`` block.
``GET|POST /t/{slug}/inspections/new`` — plan one, or start it on the spot
(``inspection.conduct``); ``?centre=<slug>&draw=<id>&on=<yyyy-mm-dd>`` pre-fills it from a
random draw (双随机).  The hidden ``client_key`` makes a resent start find the same row.
``GET /t/{slug}/inspections/{inspection_id}`` — before submission the summary with the
findings editor, afterwards the result (scores per section and item, photos, findings
with their ledger items); ``POST …/submit`` submits, ``POST …/acknowledge`` is the centre
manager's acknowledgement.  The fill pages are in
:mod:`app.inspections.inspection_fill_routes`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from wtforms.fields.choices import SelectChoice

from app.inspections import findings as submission
from app.inspections import forms, scoring
from app.inspections import inspection_fill_routes as fill_routes
from app.inspections import inspections as service
from app.inspections import photos as photo_service
from app.inspections.definition import score_text
from app.inspections.queries import inspections as queries
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import current_user, int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden
from app.web.i18n import gettext as _
from app.web.templating import render

PAGE_SIZE = 50


def _month(text: str) -> tuple[date, date] | None:
    try:
        year, month = (int(p) for p in text.split("-", 1))
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)  # 9999-12: no next month
    except ValueError:
        return None
    return start, end


def _readable_centres(request: Request, scope: TenantScope) -> list[Any]:
    tree = tenant_tree(request)
    own = tenant_node(request)
    others = sorted(
        (n for n in tree.nodes.values() if n.id in scope.read_ids and n.id != own.id),
        key=lambda n: n.slug,
    )
    return [own, *others]


async def inspection_list(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.view")
    params = request.query_params
    own = tenant_node(request)
    supervising = own.id in scope.supervise_ids
    centres = _readable_centres(request, scope) if supervising else [own]
    centre = params.get("centre", "")
    chosen = [n for n in centres if n.slug == centre]
    if not chosen:
        centre = ""
    state = params.get("state", "")
    if state not in service.STATES or (not supervising and state in service.OPEN_STATES):
        state = ""
    month_text = params.get("month", "")
    month = _month(month_text)
    if month is None:
        month_text = ""
    states = [state] if state else (None if supervising else service.DONE_STATES)
    tenant_ids = [n.id for n in (chosen or centres)]
    try:
        page = max(1, min(int(params.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    total = await queries.count(scope, tenant_ids, states=states, month=month)
    rows = await queries.inspections(
        scope,
        tenant_ids,
        states=states,
        month=month,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    query = {"centre": centre, "state": state, "month": month_text}
    return await render(
        request,
        "inspections/inspection_list.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            "base_query": "&".join(f"{k}={v}" for k, v in query.items() if v),
            "centre": centre,
            "state": state,
            "month": month_text,
            "centres": centres if len(centres) > 1 else [],
            "states": service.STATES
            if supervising
            else {k: v for k, v in service.STATES.items() if k in service.DONE_STATES},
            "origins": service.ORIGINS,
            "may_start": scope.can("inspection.conduct")
            and bool(service.centres(tenant_tree(request), scope)),
        },
        block="rows",
    )


# --- planning / starting ------------------------------------------------------------------


async def _start_choices(request: Request, scope: TenantScope, form: forms.StartForm) -> None:
    tree = tenant_tree(request)
    form.centre.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(n.slug, n.name) for n in service.centres(tree, scope)
    ]
    form.checklist.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(c["id"]), c["title"]) for c in await service.checklists(scope)
    ]
    form.inspectors.choices = [
        SelectChoice(m["user_id"], m["display_name"]) for m in await service.inspectors(scope)
    ]


async def _start_page(
    request: Request, form: forms.StartForm, error: str = "", status_code: int = 200
) -> Response:
    return await render(
        request,
        "inspections/inspection_new.html",
        {"form": form, "error": error, "drawn": bool(form.draw.data)},
        status_code=status_code,
    )


async def new(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    tree = tenant_tree(request)
    if request.method == "GET":
        params = request.query_params
        form = forms.StartForm()
        await _start_choices(request, scope, form)
        form.client_key.data = service.new_key()
        form.inspectors.data = [current_user(request).id]
        checklists = await service.checklists(scope)
        if len(checklists) >= 1:
            form.checklist.data = str(checklists[0]["id"])
        form.planned_on.data = _date(params.get("on", "")) or service.utcnow().date()
        if params.get("centre") in {n.slug for n in service.centres(tree, scope)}:
            form.centre.data = params["centre"]
        drawn = _id(params.get("draw", ""))
        if drawn is not None and await queries.draw(scope, drawn) is not None:
            form.draw.data = str(drawn)
        return await _start_page(request, form)
    form = await forms.StartForm.from_request(request)
    await _start_choices(request, scope, form)
    if not form.client_key.data:
        form.client_key.data = service.new_key()
    if not form.validate():
        return await _start_page(request, form, status_code=422)
    node = tree.by_slug.get(form.centre.data or "")
    draw_id = _id(str(form.draw.data or ""))
    if draw_id is not None and await queries.draw(scope, draw_id) is None:
        draw_id = None
    start_now = (await request.form()).get("action") == "start"
    origin = "drawn" if draw_id else (form.origin.data or "planned")
    if start_now and origin == "planned":
        origin = "spot"
    try:
        inspection_id, _created = await service.start(
            request,
            scope,
            tree,
            service.Plan(
                centre_id=node.id if node else 0,
                checklist_id=_id(str(form.checklist.data or "")) or 0,
                planned_on=form.planned_on.data,
                inspectors=[int(u) for u in form.inspectors.data or []],
                origin=origin,
                client_key=str(form.client_key.data),
                draw_id=draw_id,
                start_now=start_now,
            ),
        )
    except service.InspectionError as exc:
        if exc.field in ("centre", "checklist"):
            form.add_error(exc.field, exc.message)
        return await _start_page(
            request, form, "" if exc.field in ("centre", "checklist") else exc.message, 422
        )
    base = fill_routes.base_url(request, inspection_id)
    loaded = await service.load(scope, inspection_id)
    if loaded.state == "in_progress":
        return RedirectResponse(f"{base}/fill/0", status_code=303)
    return RedirectResponse(base, status_code=303)


def _id(text: str) -> int | None:
    """A posted or queried id: ASCII digits within the id range, else None (not "²",
    not 5000 digits, not past int4)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    return int(text) if 0 < int(text) < 2**31 else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# --- the summary / result page -------------------------------------------------------------


def _division_slug(request: Request) -> str:
    tree = tenant_tree(request)
    node: TenantNode | None = tenant_node(request)
    while node is not None and node.kind != "division":
        node = tree.nodes.get(node.parent_id) if node.parent_id else None
    return node.slug if node else ""


async def _detail_page(
    request: Request,
    loaded: service.Loaded,
    *,
    rows: list[dict[str, Any]] | None = None,
    summary: str | None = None,
    error: str = "",
    errors: dict[int, str] | None = None,
    ack_error: str = "",
    status_code: int = 200,
) -> Response:
    scope = tenant_scope(request, "inspection.view")
    photos = await queries.photos(scope, loaded.id)
    totals = scoring.totals(loaded.definition, loaded.answers)
    conduct = service.may_conduct(scope, loaded.row) and loaded.state in service.OPEN_STATES
    try:
        extra = int(request.query_params.get("rows", "0"))
    except ValueError:
        extra = 0
    done = request.query_params.get("done", "")
    return await render(
        request,
        "inspections/inspection_detail.html",
        {
            "inspection": loaded.row,
            "definition": loaded.definition,
            "totals": totals,
            "photos": photo_service.by_item(photos),
            "findings": await queries.findings(scope, loaded.id),
            "conduct": conduct,
            "may_acknowledge": service.may_acknowledge(scope, loaded.row),
            "missing_photos": scoring.missing_photos(
                loaded.definition, {p["item_key"] for p in photos}
            ),
            "rows": rows or forms.blank_rows(min(forms.MAX_ROWS, max(forms.FINDING_ROWS, extra))),
            "row_errors": errors or {},
            "summary": loaded.row["summary"] if summary is None else summary,
            "items": loaded.definition.items(),
            "error": error,
            "ack_error": ack_error,
            "notice": {
                "submitted": _("Submitted. The centre's managers have been told."),
                "acknowledged": _("Acknowledged."),
            }.get(done, ""),
            "base": fill_routes.base_url(request, loaded.id),
            "division_slug": _division_slug(request),
            "states": service.STATES,
            "origins": service.ORIGINS,
            "default_days": submission.DEFAULT_DAYS,
            "max_days": submission.MAX_DAYS,
            "num": score_text,
        },
        status_code=status_code,
    )


async def detail(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.view")
    loaded = await service.load(scope, int_param(request, "inspection_id"))
    return await _detail_page(request, loaded)


async def submit(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.conduct")
    inspection_id = int_param(request, "inspection_id")
    loaded = await service.load_for_conduct(scope, inspection_id)
    base = fill_routes.base_url(request, inspection_id)
    form = await request.form()
    filled, rows, where = forms.finding_rows(form)
    summary = str(form.get("summary", "")).replace("\x00", "").strip()
    try:
        lock_version: int | None = int(str(form.get("lock_version", "")))
    except ValueError:
        lock_version = None
    if loaded.state in service.OPEN_STATES:
        errors = submission.check_findings(loaded, filled)
        if errors:
            by_row = {where.get(i, i): message for i, message in errors.items()}
            return await _detail_page(
                request,
                loaded,
                rows=rows,
                summary=summary,
                errors=by_row,
                error=_("Check the findings marked below."),
                status_code=422,
            )
    try:
        await submission.submit(
            request,
            scope,
            tenant_tree(request),
            inspection_id,
            filled,
            summary=summary,
            lock_version=lock_version,
        )
    except service.Conflict as exc:
        loaded = await service.load_for_conduct(scope, inspection_id)
        return await _detail_page(
            request, loaded, rows=rows, summary=summary, error=exc.message, status_code=409
        )
    except service.InspectionError as exc:
        return await _detail_page(
            request, loaded, rows=rows, summary=summary, error=exc.message, status_code=422
        )
    return RedirectResponse(f"{base}?done=submitted", status_code=303)


async def acknowledge(request: Request) -> Response:
    scope = tenant_scope(request, "inspection.acknowledge")
    inspection_id = int_param(request, "inspection_id")
    loaded = await service.load(scope, inspection_id)
    if loaded.tenant_id not in scope.write_ids:
        raise Forbidden()
    form = await forms.AcknowledgeForm.from_request(request)
    if loaded.state == "acknowledged":
        return await _detail_page(
            request,
            loaded,
            ack_error=_("This inspection has already been acknowledged."),
            status_code=409,
        )
    try:
        await service.acknowledge(request, scope, inspection_id, form.note.data or "")
    except service.InspectionError as exc:
        loaded = await service.load(scope, inspection_id)
        return await _detail_page(request, loaded, ack_error=exc.message, status_code=422)
    base = fill_routes.base_url(request, inspection_id)
    return RedirectResponse(f"{base}?done=acknowledged", status_code=303)


routes = [
    Route("/t/{slug}/inspections", inspection_list, methods=["GET"]),
    Route("/t/{slug}/inspections/new", new, methods=["GET", "POST"]),
    Route("/t/{slug}/inspections/{inspection_id:int}", detail, methods=["GET"]),
    Route(
        "/t/{slug}/inspections/{inspection_id:int}/fill/{section:int}",
        fill_routes.fill,
        methods=["GET"],
    ),
    Route("/t/{slug}/inspections/{inspection_id:int}/save", fill_routes.save, methods=["POST"]),
    Route(
        "/t/{slug}/inspections/{inspection_id:int}/photos",
        fill_routes.upload_photo,
        methods=["POST"],
    ),
    Route(
        "/t/{slug}/inspections/{inspection_id:int}/photos/{photo_id:int}",
        fill_routes.photo,
        methods=["GET"],
    ),
    Route("/t/{slug}/inspections/{inspection_id:int}/submit", submit, methods=["POST"]),
    Route("/t/{slug}/inspections/{inspection_id:int}/acknowledge", acknowledge, methods=["POST"]),
]
