"""Login, logout and passwords (the views are thin: forms in, services, pages out)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import services
from app.accounts.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from app.accounts.services import ServiceError
from app.web.auth import current_user
from app.web.errors import NotFound
from app.web.routes import _safe_next
from app.web.templating import render


async def login(request: Request) -> Response:
    form = await LoginForm.from_request(request)
    next_url = _safe_next(request.query_params.get("next"))
    error = None
    if request.method == "POST" and form.validate():
        try:
            await services.login(request, form.username.data, form.password.data)
        except ServiceError as exc:
            error = exc.message
        else:
            return RedirectResponse(next_url, status_code=303)
    form.password.data = ""
    return await render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": next_url},
        status_code=422 if request.method == "POST" else 200,
    )


async def logout(request: Request) -> Response:
    await services.logout(request)
    return RedirectResponse("/login", status_code=303)


async def change_password(request: Request) -> Response:
    user = current_user(request)
    form = await ChangePasswordForm.from_request(request)
    done = False
    if request.method == "POST" and form.validate():
        try:
            await services.change_password(request, user, form.current.data, form.new.data)
        except ServiceError as exc:
            form.add_error(exc.field or "new", exc.message)
        else:
            done = True
    status = 422 if request.method == "POST" and not done else 200
    return await render(
        request, "accounts/password.html", {"form": form, "done": done}, status_code=status
    )


async def set_password(request: Request) -> Response:
    token = request.path_params["token"]
    target = await services.link_target(token)
    if target is None:
        raise NotFound()
    form = await SetPasswordForm.from_request(request)
    if request.method == "POST" and form.validate():
        try:
            await services.set_password_with_link(request, token, form.new.data)
        except ServiceError as exc:
            form.add_error(exc.field or "new", exc.message)
        else:
            return await render(
                request, "accounts/password_set.html", {"username": target["username"]}
            )
    status = 422 if request.method == "POST" else 200
    return await render(
        request,
        "accounts/set_password.html",
        {"form": form, "target": target},
        status_code=status,
    )


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/password", change_password, methods=["GET", "POST"]),
    Route("/password/set/{token}", set_password, methods=["GET", "POST"]),
]
