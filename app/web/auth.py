"""Who is asking: the signed-in user, the platform admin, the tenant scope of the request."""

from __future__ import annotations

from starlette.requests import Request

from app.accounts.queries import UserInfo
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.errors import Forbidden, LoginRequired, NotFound


def current_user(request: Request) -> UserInfo:
    session = request.scope.get("state", {}).get("session")
    if session is None or session.user is None:
        raise LoginRequired()
    return session.user


def platform_admin(request: Request) -> UserInfo:
    user = current_user(request)
    if not user.is_platform_admin:
        raise Forbidden()
    return user


def tenant_scope(request: Request, capability: str = "tenant.view") -> TenantScope:
    """The scope resolved by the tenant middleware; 403 without ``capability``."""
    scope: TenantScope | None = request.scope.get("state", {}).get("tenant_scope")
    if scope is None:
        raise NotFound()
    scope.require(capability)
    return scope


def tenant_node(request: Request) -> TenantNode:
    return request.scope["state"]["tenant"]


def tenant_tree(request: Request) -> Tree:
    return request.scope["state"]["tree"]


def int_param(request: Request, name: str) -> int:
    """A numeric path parameter; anything else is a 404 like a missing record."""
    value = request.path_params.get(name, "")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if number <= 0 or number > 2**31 - 1:
        raise NotFound()
    return number
