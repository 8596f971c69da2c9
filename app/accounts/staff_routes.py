"""A centre's staff: list, add, edit roles and departments, deactivate, reset links, unlock."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries, services
from app.accounts.forms import StaffEditForm, StaffForm, role_choices
from app.accounts.services import NewStaff, ServiceError
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.templating import render


async def _choices(form: StaffEditForm, scope: TenantScope) -> None:
    form.roles.choices = role_choices(scope.can("subtree.view"))
    departments = await tenancy.departments(scope)
    form.departments.choices = [(d["id"], d["short_name"]) for d in departments]


async def _list_page(
    request: Request, scope: TenantScope, form: StaffForm, status: int = 200, **extra: object
) -> Response:
    members = await queries.members(scope, scope.own())
    locked = await services.locked([m["username"] for m in members])
    return await render(
        request,
        "accounts/staff.html",
        {"members": members, "locked": locked, "form": form, **extra},
        status_code=status,
    )


async def staff(request: Request) -> Response:
    scope = tenant_scope(request, "staff.view")
    form = await StaffForm.from_request(request)
    await _choices(form, scope)
    if request.method == "GET":
        return await _list_page(request, scope, form)
    scope.require("staff.manage")
    if form.validate():
        try:
            _member_id, link = await services.add_staff(
                request,
                scope,
                NewStaff(
                    username=form.username.data,
                    display_name=form.display_name.data,
                    roles=set(form.roles.data or []),
                    department_ids=list(form.departments.data or []),
                    title=form.title.data or "",
                ),
            )
        except ServiceError as exc:
            form.add_error(exc.field or "username", exc.message)
        else:
            return await _list_page(
                request,
                scope,
                await _fresh_form(scope),
                added=form.username.data,
                link=link,
            )
    return await _list_page(request, scope, form, status=422)


async def _fresh_form(scope: TenantScope) -> StaffForm:
    form = StaffForm()
    await _choices(form, scope)
    return form


async def member(request: Request) -> Response:
    scope = tenant_scope(request, "staff.manage")
    member_id = int_param(request, "member_id")
    row = await queries.membership(scope, member_id)
    if row is None:
        raise NotFound()
    form = await StaffEditForm.from_request(request)
    await _choices(form, scope)
    if request.method == "GET":
        form.roles.data = sorted(row["roles"])
        form.departments.data = await queries.member_department_ids(scope, member_id)
        membership = await queries.membership_of(scope, row["tenant_id"], row["user_id"])
        form.title.data = membership["title"] if membership else ""
    elif form.validate():
        try:
            await services.update_staff(
                request,
                scope,
                member_id,
                set(form.roles.data or []),
                list(form.departments.data or []),
                form.title.data or "",
            )
        except ServiceError as exc:
            form.add_error(exc.field or "roles", exc.message)
        else:
            return RedirectResponse(f"/t/{tenant_node(request).slug}/staff", status_code=303)
    status = 422 if request.method == "POST" else 200
    return await render(
        request, "accounts/member.html", {"member": row, "form": form}, status_code=status
    )


async def member_action(request: Request, action: str) -> Response:
    """Deactivate, activate, unlock or issue a set-password link for one member."""
    scope = tenant_scope(request, "staff.unlock" if action == "unlock" else "staff.manage")
    member_id = int_param(request, "member_id")
    link = None
    notice = None
    try:
        if action == "deactivate":
            await services.set_active(request, scope, member_id, False)
        elif action == "activate":
            await services.set_active(request, scope, member_id, True)
        elif action == "reset-link":
            link = await services.reset_link(request, scope, member_id)
        elif action == "unlock":
            await services.unlock(request, scope, member_id)
        else:
            raise NotFound()
    except ServiceError as exc:
        notice = exc.message
    row = await queries.membership(scope, member_id)
    return await _list_page(
        request,
        scope,
        await _fresh_form(scope),
        link=link,
        link_for=row["username"] if (row and link) else None,
        notice=notice,
        status=422 if notice else 200,
    )


ACTIONS = ("deactivate", "activate", "reset-link", "unlock")


def _action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return await member_action(request, name)

    endpoint.__name__ = f"member_{name.replace('-', '_')}"
    return endpoint


routes = [
    Route("/t/{slug}/staff", staff, methods=["GET", "POST"]),
    Route("/t/{slug}/staff/{member_id}", member, methods=["GET", "POST"]),
    *(
        Route(f"/t/{{slug}}/staff/{{member_id}}/{name}", _action(name), methods=["POST"])
        for name in ACTIONS
    ),
]
