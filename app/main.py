"""create_app(): routes, middleware, lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app import db
from app.accounts import routes as account_routes
from app.accounts import staff_routes
from app.accounts.sessions import SessionMiddleware
from app.calendar import routes as calendar_routes
from app.cases import case_routes, desk_routes, ledger_routes, seal_routes
from app.cases import list_routes as case_list_routes
from app.cases import print_routes as case_print_routes
from app.cases import public_routes as case_public
from app.catalogue import adoption_routes, editor_routes, sample_routes
from app.catalogue import public_routes as catalogue_public
from app.catalogue import xlsx_routes as catalogue_xlsx
from app.circulars import routes as circular_routes
from app.documents import routes as document_routes
from app.inspections import routes as inspection_routes
from app.jobs import runner
from app.notify import routes as notify_routes
from app.ops import routes as ops_routes
from app.ops.access import AccessLog, RequestUser
from app.reports import routes as report_routes
from app.settings import settings
from app.staff import routes as staff_area_routes
from app.storage import routes as storage_routes
from app.supervision import routes as supervision_routes
from app.tenancy import routes as tenancy_routes
from app.tenancy.middleware import TenantScopeMiddleware
from app.web import pages
from app.web import routes as web_routes
from app.web.csrf import CSRFMiddleware
from app.web.errors import LoginRequired
from app.web.security import SecurityHeaders

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("bianmin")


def all_routes() -> list[BaseRoute]:
    return [
        *ops_routes.routes,
        *web_routes.routes,
        *account_routes.routes,
        *tenancy_routes.routes,
        *staff_routes.routes,
        *calendar_routes.routes,
        *storage_routes.routes,
        *notify_routes.routes,
        *catalogue_xlsx.routes,  # before /items/{code} and /catalogue/{code}
        *adoption_routes.routes,
        *sample_routes.routes,
        *editor_routes.routes,  # after other /catalogue/<word> routes: {code} matches words
        *catalogue_public.routes,
        *case_list_routes.routes,
        *desk_routes.routes,  # /cases/new and /cases/handover
        *case_routes.routes,
        *case_public.routes,
        *ledger_routes.routes,
        *case_print_routes.routes,  # receipt and documents of a case
        *seal_routes.routes,
        *report_routes.routes,
        *inspection_routes.routes,
        *circular_routes.routes,
        *document_routes.routes,
        *staff_area_routes.routes,
        *supervision_routes.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def forget_idle_sessions() -> None:
    """Drop sessions idle past the timeout (a periodic sweep does this while running)."""
    from datetime import UTC, datetime, timedelta

    from app.accounts import queries as accounts

    cutoff = datetime.now(UTC) - timedelta(minutes=settings.session_idle_minutes)
    await accounts.delete_idle_sessions(cutoff)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    try:
        db.enable_wal()
        await db.open_pool(settings.pool_min_size, settings.pool_max_size)
        await forget_idle_sessions()
    except Exception:  # the app still starts; /healthz answers 503 until the database is back
        log.exception("database unavailable at start-up")
    try:
        async with runner.in_process():
            yield
    finally:
        await db.close_pool()


class App:
    """The Starlette app wrapped by the security-header layer (so 500 pages get them too) and,
    outermost, the access log (request id, log context, request metrics)."""

    def __init__(self, starlette: Starlette) -> None:
        self.starlette = starlette
        self.asgi: ASGIApp = AccessLog(
            SecurityHeaders(starlette, hsts=settings.secure_cookies), starlette.router
        )

    @property
    def routes(self) -> list[BaseRoute]:
        return self.starlette.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)


def create_app() -> App:
    starlette = Starlette(
        routes=all_routes(),
        middleware=[
            Middleware(SessionMiddleware),
            Middleware(RequestUser),  # the session's user into the log context
            Middleware(CSRFMiddleware, reject=pages.reject_csrf),
            Middleware(TenantScopeMiddleware),
        ],
        exception_handlers={
            HTTPException: pages.http_exception,
            LoginRequired: pages.login_required,
            Exception: pages.server_error,
        },
        lifespan=lifespan,
    )
    return App(starlette)


def create_served_app() -> ASGIApp:
    """The app as granian serves it: the client address taken from ``X-Forwarded-For`` only
    when the peer is one of FORWARDED_ALLOW_IPS (uvicorn does this itself with proxy_headers);
    rate limits, lockouts and METRICS_ALLOW depend on it."""
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    trusted = [h.strip() for h in settings.forwarded_allow_ips.split(",") if h.strip()]
    return wrap_asgi_with_proxy_headers(create_app(), trusted_hosts=trusted)  # type: ignore[no-any-return]
