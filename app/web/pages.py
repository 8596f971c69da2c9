"""Error pages (404, 403, 500 …) in the user's language, as page or fragment."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from app.web.errors import LoginRequired
from app.web.i18n import gettext as _
from app.web.templating import is_htmx, render


def messages(status: int) -> tuple[str, str]:
    texts = {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (
            _("Not allowed"),
            _("You may not do this, or the form has expired. Go back, reload and try again."),
        ),
        404: (
            _("Page not found"),
            _("The page or record does not exist, or it is not yours to see."),
        ),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        413: (_("Upload too large"), _("The file is larger than allowed.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again later.")),
    }
    return texts.get(status, (_("Error"), ""))


async def error_response(request: Request, status: int) -> Response:
    if request.url.path.startswith("/healthz"):
        return JSONResponse({"status": "error"}, status_code=status)
    title, text = messages(status)
    return await render(
        request,
        "web/error.html",
        {"status": status, "title": title, "text": text},
        status_code=status,
        needs_session=False,
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return await error_response(request, status)


async def login_required(request: Request, exc: Exception) -> Response:
    return login_redirect(request)


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = "/login?next=" + target if request.method == "GET" else "/login"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def reject_csrf(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI app answering a failed CSRF check with the 403 page."""
    response = await error_response(Request(scope, receive), 403)
    await response(scope, receive, send)


__all__ = ["LoginRequired", "error_response", "http_exception", "login_redirect", "reject_csrf"]


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page: logged with the request id, never a traceback to the user."""
    import logging

    logging.getLogger("bianmin").exception(
        "unhandled error", extra={"request_id": request.scope.get("state", {}).get("request_id")}
    )
    try:
        return await error_response(request, 500)
    except Exception:
        return Response("500", status_code=500, media_type="text/plain")
