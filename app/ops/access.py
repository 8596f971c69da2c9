"""The access log and the request metrics: one pure-ASGI layer, the outermost.

Per request it settles the request id (a short safe ``X-Request-ID`` from the proxy, else a
new one; the security-header layer echoes it), opens the log context, and at the end writes
one ``bianmin.access`` line — request id, tenant slug, user id, route *template*, method,
status, duration — and counts the request for ``/metrics``.  Never the raw path or the query
string: they can hold ID numbers, phone numbers and one-time tokens.

(Starlette's ``BaseHTTPMiddleware`` would break the context variables: this is plain ASGI.)
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from functools import lru_cache
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops import logs
from app.ops.prometheus import HTTP_DURATION, HTTP_REQUESTS

log = logging.getLogger("bianmin.access")
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CONVERTOR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[A-Za-z_]+\}")
UNMATCHED = "unmatched"
CLIENT_GONE = 499  # no response was started (nginx's number for a client that went away)


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if SAFE_REQUEST_ID.match(text):
                return text
            break
    return secrets.token_hex(8)


@lru_cache(maxsize=2048)
def template(path: str) -> str:
    """``/t/{slug}/cases/{case_id:int}`` → ``/t/{slug}/cases/{case_id}``."""
    return CONVERTOR.sub(r"{\1}", path)


def route_template(route: BaseRoute) -> str:
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return template(path) + "/{path}" if isinstance(route, Mount) else template(path)


def resolve(scope: Scope, router: Router) -> tuple[str, dict[str, Any]]:
    """The route template and path parameters: the route Starlette matched, or — when a
    middleware answered before routing (login redirect, unknown tenant, CSRF) — the route
    that would have."""
    route = scope.get("route")
    if route is not None:
        return route_template(route), scope.get("path_params", {})
    partial: tuple[str, dict[str, Any]] | None = None
    for candidate in router.routes:
        match, child = candidate.matches(scope)
        if match is Match.FULL:
            return route_template(candidate), child.get("path_params", {})
        if match is Match.PARTIAL and partial is None:
            partial = route_template(candidate), child.get("path_params", {})
    return partial or (UNMATCHED, {})


class AccessLog:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        context = logs.RequestContext(request_id, scope)
        token = logs.enter(context)
        status = 0
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except BaseException:
            status = status or 500
            raise
        finally:
            try:
                self.record(scope, context, status or CLIENT_GONE, time.perf_counter() - started)
            except Exception:  # never let the access log replace the request's own outcome
                log.exception("access log failed")
            finally:
                logs.leave(token)

    def record(
        self, scope: Scope, context: logs.RequestContext, status: int, seconds: float
    ) -> None:
        route, params = resolve(scope, self.router)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        HTTP_REQUESTS.labels(route, method, str(status)).inc()
        HTTP_DURATION.labels(route, method).observe(seconds)
        milliseconds = round(seconds * 1000, 1)
        log.log(
            logging.WARNING if status >= 500 else logging.INFO,
            "%s %s %s %.1fms",
            method,
            route,
            status,
            milliseconds,
            extra={
                "request_id": context.request_id,
                "tenant": context.tenant() or logs.slug_or_none(params.get("slug")),
                "user_id": context.user(),
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": milliseconds,
            },
        )


class RequestUser:
    """Placed right inside the session middleware: notes the session's user in the log
    context before anything can log (and before a logout drops the session)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = logs.current()
        if context is not None:
            context.user()
        await self.app(scope, receive, send)
