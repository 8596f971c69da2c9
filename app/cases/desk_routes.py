"""The window desk: registering a case (item picker, applicant, materials with uploads) and
the manager's hand-over of a leaving clerk's cases."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.cases import actions, case_routes, intake, workflow
from app.cases import desk_forms as forms
from app.cases.intake import Intake
from app.cases.queries import desk as desk_queries
from app.cases.timeline import Actor
from app.catalogue.content import KINDS
from app.catalogue.queries import public as catalogue
from app.tenancy.scope import TenantScope
from app.web.auth import current_user, tenant_node, tenant_scope
from app.web.i18n import gettext as _
from app.web.i18n import ngettext
from app.web.templating import is_htmx, render

PICKER, MATERIALS = "item-picker", "materials"
HANDOVER_STATES = (*sorted(workflow.OPEN), "concluded")


# --- registration ---------------------------------------------------------------------------


async def open_items(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The centre's adopted items that take applications (retired ones do not)."""
    return [i for i in await catalogue.adopted_items(scope, tenant_id) if i["retired_at"] is None]


def matches(item: dict[str, Any], query: str) -> bool:
    query = query.strip().lower()
    if not query:
        return True
    text = " ".join(
        str(v)
        for v in (item["code"], item["content"].get("name", ""), item["department_name"] or "")
    ).lower()
    return all(word in text for word in query.split())


def grouped(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items by department, in the catalogue's order."""
    groups: list[dict[str, Any]] = []
    for item in items:
        name = item["department_name"] or _("Other")
        if not groups or groups[-1]["name"] != name:
            groups.append({"name": name, "items": []})
        groups[-1]["items"].append(item)
    return groups


async def register_page(
    request: Request,
    scope: TenantScope,
    *,
    form: forms.RegisterForm | None = None,
    code: str = "",
    formdata: FormData | None = None,
    status: int = 200,
    item_error: str = "",
    error: str = "",
    lines: list[dict[str, Any]] | None = None,
) -> Response:
    node = tenant_node(request)
    items = await open_items(scope, node.id)
    query = request.query_params.get("q", "") if request.method == "GET" else ""
    item = next((i for i in items if i["code"] == code), None)
    shown = [i for i in items if matches(i, query) or i is item]
    if lines is None:
        lines = forms.material_lines(item["content"]["materials"], formdata) if item else []
    block = "content"
    if is_htmx(request):
        target = request.headers.get("HX-Target", "")
        block = {PICKER: "picker", MATERIALS: "materials"}.get(target, "content")
    response = await render(
        request,
        "cases/register.html",
        {
            "form": form or forms.RegisterForm(),
            "groups": grouped(shown),
            "total": len(items),
            "shown_count": len(shown),
            "query": query,
            "item": item,
            "code": code,
            "item_error": item_error,
            "error": error,
            "lines": lines,
            "statuses": forms.MATERIAL_STATUSES,
            "kinds": KINDS,
            "file_accept": forms.FILE_ACCEPT,
        },
        block=block,
        status_code=status,
    )
    response.headers["Vary"] = "HX-Request, HX-Target, Cookie"
    return response


async def register(request: Request) -> Response:
    """GET the form (``?item=CODE`` picks the item, ``?q=`` filters the list); POST registers."""
    scope = tenant_scope(request, "case.register")
    if request.method == "GET":
        return await register_page(request, scope, code=request.query_params.get("item", "")[:32])
    node = tenant_node(request)
    formdata = await request.form()
    form = forms.RegisterForm(formdata)
    code = str(formdata.get("item_code", "")).strip()[:32]
    item = next((i for i in await open_items(scope, node.id) if i["code"] == code), None)
    lines = forms.material_lines(item["content"]["materials"], formdata) if item else []
    chosen = bool(forms.uploads(formdata, lines))
    kept = _("The files you chose were not saved: choose them again.") if chosen else ""

    async def refused(item_error: str = "", error: str = "") -> Response:
        return await register_page(
            request,
            scope,
            form=form,
            code=code,
            status=422,
            item_error=item_error,
            error=" ".join(m for m in (error, kept) if m),
            lines=lines,
        )

    valid = form.validate()
    if item is None:
        return await refused(item_error=_("Choose an item this centre handles."))
    if not valid:
        return await refused()
    try:
        stored = await case_routes.store_uploads(scope, formdata, lines)
    except workflow.WorkflowError as exc:
        forms.set_line_error(lines, exc.field, exc.message)
        return await refused()
    try:
        case_id = await intake.register(
            scope,
            Actor.of(current_user(request)),
            Intake(
                item_code=code,
                applicant_kind=form.applicant_kind.data or "",
                applicant_name=form.applicant_name.data or "",
                id_number=form.id_number.data or "",
                phone=form.phone.data or "",
                channel=form.channel.data or "",
                materials=forms.material_checks(lines),
                urgent=bool(form.urgent.data),
                green_channel=bool(form.green_channel.data),
                contact_address=form.contact_address.data or "",
                note=form.note.data or "",
                supplement_days=form.supplement_days.data or intake.DEFAULT_SUPPLEMENT_DAYS,
                files=stored,
            ),
        )
    except workflow.WorkflowError as exc:
        await case_routes.forget(scope, stored)
        if exc.field == "item_code":
            return await refused(item_error=exc.message)
        if forms.set_line_error(lines, exc.field, exc.message):
            return await refused()
        if exc.field and exc.field in form:
            form.add_error(exc.field, exc.message)
            return await refused()
        return await refused(error=exc.message)
    except BaseException:
        await case_routes.forget(scope, stored)
        raise
    return RedirectResponse(f"/t/{node.slug}/cases/{case_id}?done=registered", status_code=303)


# --- hand-over ------------------------------------------------------------------------------


async def handover(request: Request) -> Response:
    """GET ``?from_user=ID`` lists a clerk's open cases; POST moves the chosen (or all) of them."""
    scope = tenant_scope(request, "case.handover")
    node = tenant_node(request)
    members = [m for m in await accounts.members(scope, node.id)]
    counts = await desk_queries.owner_counts(scope, node.id, HANDOVER_STATES)
    form = await forms.HandoverForm.from_request(request)
    form.from_user.choices = [("", _("— choose —"))] + [
        (str(m["user_id"]), f"{m['display_name']} ({counts.get(m['user_id'], 0)})") for m in members
    ]
    form.to_user.choices = [("", _("— choose —"))] + [
        (str(m["user_id"]), m["display_name"]) for m in members if m["active"]
    ]
    source = request.query_params.get("from_user", "") if request.method == "GET" else ""
    if request.method == "GET":
        form.from_user.data = source
    ids = {m["user_id"] for m in members}
    from_id = forms.form_id(form.from_user.data)
    if from_id not in ids:
        from_id = None
    status, notice = 200, ""
    if request.method == "POST" and from_id is not None:
        posted = await request.form()
        owned = {
            c["id"]
            for c in await desk_queries.cases_of_owner(scope, node.id, from_id, HANDOVER_STATES)
        }
        if posted.get("all"):
            chosen = sorted(owned)
        else:
            picked = (forms.form_id(v) for v in posted.getlist("case"))
            chosen = sorted(i for i in picked if i is not None and i in owned)
        to_id = forms.form_id(form.to_user.data) or 0
        if not chosen:
            form.add_error("from_user", _("Choose at least one case to hand over."))
            status = 422
        elif to_id == from_id:
            form.add_error("to_user", _("Choose a member other than the leaving clerk."))
            status = 422
        else:
            try:
                moved = await actions.hand_over(
                    scope, chosen, Actor.of(current_user(request)), to_id, form.note.data or ""
                )
            except workflow.WorkflowError as exc:
                form.add_error(exc.field if exc.field in form else "to_user", exc.message)
                status = 422
            else:
                notice = ngettext("Handed over %(num)d case.", "Handed over %(num)d cases.", moved)
                form.note.data = ""
    elif request.method == "POST":
        form.add_error("from_user", _("Choose the leaving clerk."))
        status = 422
    cases = (
        await desk_queries.cases_of_owner(scope, node.id, from_id, HANDOVER_STATES)
        if from_id is not None
        else []
    )
    return await render(
        request,
        "cases/handover.html",
        {
            "form": form,
            "from_id": from_id,
            "cases": cases,
            "states": workflow.STATES,
            "lights": workflow.LIGHTS,
            "notice": notice,
        },
        status_code=status,
    )


routes = [
    Route("/t/{slug}/cases/new", register, methods=["GET", "POST"]),
    Route("/t/{slug}/cases/handover", handover, methods=["GET", "POST"]),
]
