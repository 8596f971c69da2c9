"""Resolves ``/t/<slug>/…`` once per request into a TenantScope (or a 404 / login redirect)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.accounts import queries as accounts
from app.tenancy import queries
from app.tenancy.scope import for_user, public_scope, user_scope
from app.web.pages import error_response, login_redirect

TENANT_PATH = re.compile(r"^/t/([^/]+)(?:/|$)")
# Pages the public reaches without logging in (DESIGN.md, "Public reach").
PUBLIC_PATH = re.compile(r"^/t/[^/]+/(?:guide|power-list|screen)(?:/|$)")
# The applicant's case lookup and rating: public for its forms' POSTs too (CSRF still applies:
# the page gives an anonymous session with a token).
TRACK_PATH = re.compile(r"^/t/[^/]+/track(?:/|$)")


def is_public(path: str, method: str) -> bool:
    if method in ("GET", "HEAD"):
        return bool(PUBLIC_PATH.match(path) or TRACK_PATH.match(path))
    return method == "POST" and bool(TRACK_PATH.match(path))


class TenantScopeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = TENANT_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request = Request(scope, receive)
        tree = await queries.tree()
        node = tree.by_slug.get(match.group(1))
        session = state.get("session")
        user = session.user if session else None
        if node is None:
            response = await error_response(request, 404)
        elif is_public(scope["path"], scope["method"]):
            if node.status == "suspended":
                response = await error_response(request, 404)
            else:
                state["tree"] = tree
                state["tenant"] = node
                state["tenant_scope"] = public_scope(tree, node.id)
                await self.app(scope, receive, send)
                return
        elif user is None:
            response = login_redirect(request)
        else:
            mine = await accounts.my_memberships(user_scope(user.id))
            tenant_scope = for_user(tree, node.id, user.id, mine, user.is_platform_admin)
            if tenant_scope is None:
                response = await error_response(request, 404)
            elif node.status == "suspended" and not tenant_scope.can("subtree.view"):
                response = await error_response(request, 403)
            else:
                state["tree"] = tree
                state["tenant"] = node
                state["tenant_scope"] = tenant_scope
                await self.app(scope, receive, send)
                return
        await response(scope, receive, send)
