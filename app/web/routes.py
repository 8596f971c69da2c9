"""The shell: the front door and the language switch (``/healthz`` lives in app.ops)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.accounts.sessions import LANG_COOKIE
from app.tenancy import queries as tenancy
from app.tenancy.scope import user_scope
from app.web import i18n
from app.web.auth import current_user
from app.web.templating import render


async def home(request: Request) -> Response:
    """Send a signed-in user to their centre (or the list of their centres)."""
    session = request.scope["state"].get("session")
    if session is None or session.user is None:
        return RedirectResponse("/login", status_code=303)
    user = session.user
    mine = await accounts.my_memberships(user_scope(user.id))
    tree = await tenancy.tree()
    centres = [tree.nodes[t] for t in mine if t in tree.nodes]
    if len(centres) == 1 and not user.is_platform_admin:
        return RedirectResponse(f"/t/{centres[0].slug}/", status_code=303)
    if not centres and user.is_platform_admin:
        return RedirectResponse("/admin/tenants", status_code=303)
    return await render(request, "web/home.html", {"centres": sorted(centres, key=lambda n: n.id)})


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def language(request: Request) -> Response:
    """Switch the interface language (stored on the user, and in a cookie)."""
    form = await request.form()
    locale = i18n.normalize(str(form.get("locale", ""))) or i18n.DEFAULT_LOCALE
    session = request.scope["state"].get("session")
    if session is not None and session.user is not None:
        current_user(request)
        await accounts.update_user(session.user.id, locale=locale)
    response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


routes = [
    Route("/", home, methods=["GET"]),
    Route("/language", language, methods=["POST"]),
]
