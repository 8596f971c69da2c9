"""Onboarding a centre in the browser: the tenant, its manager and the manager's link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.accounts.services import ServiceError, issue_link
from app.tenancy import queries
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.i18n import gettext as _

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

# Which kind may hang under which (communities may hang off the division directly).
ALLOWED_PARENTS = {"regiment": {"division"}, "community": {"division", "regiment"}}

DEFAULT_HOURS: dict[str, Any] = {
    "summer": {"from": "05-01", "morning": ["09:30", "13:30"], "afternoon": ["16:00", "20:00"]},
    "winter": {"from": "10-01", "morning": ["10:00", "14:00"], "afternoon": ["15:30", "19:30"]},
}


@dataclass
class Onboarding:
    parent_id: int
    kind: str
    slug: str
    name: str
    status: str
    manager_username: str
    manager_name: str


@dataclass
class Onboarded:
    tenant_id: int
    slug: str
    manager_username: str
    link: str | None


def admin_scope(tree: Tree, request: Request) -> TenantScope:
    user = request.state.session.user
    return system_scope(tree, reason="platform admin", user_id=user.id)


async def onboard(request: Request, tree: Tree, data: Onboarding) -> Onboarded:
    parent = tree.nodes.get(data.parent_id)
    if parent is None:
        raise ServiceError(_("Choose the parent centre."), "parent_id")
    if parent.kind not in ALLOWED_PARENTS.get(data.kind, set()):
        raise ServiceError(_("A centre of this kind cannot sit under that parent."), "parent_id")
    if data.slug in tree.by_slug:
        raise ServiceError(_("This short name is already taken."), "slug")
    scope = admin_scope(tree, request)
    parent_row = await queries.tenant(scope, parent.id)
    hours = (parent_row or {}).get("hours") or DEFAULT_HOURS
    link = None
    async with db.write(scope):
        tenant_id = await queries.create_tenant(
            scope,
            slug=data.slug,
            name=data.name,
            kind=data.kind,
            parent=parent.id,
            status=data.status,
            hours=hours,
        )
        scope = scope.with_tenant(tenant_id)
        await db.set_scope(scope)
        existing = await accounts.user_by_username(data.manager_username)
        if existing is None:
            user_id = await accounts.create_user(data.manager_username, data.manager_name)
            link = await issue_link(user_id, scope.user_id)
        else:
            user_id = existing["id"]
        member_id = await accounts.add_membership(scope, tenant_id, user_id, {"manager"})
        await audit.record(
            request,
            "tenant.created",
            tenant_id=tenant_id,
            object_type="tenant",
            object_id=tenant_id,
            slug=data.slug,
            parent=parent.slug,
        )
        await audit.record(
            request,
            "staff.added",
            tenant_id=tenant_id,
            object_type="membership",
            object_id=member_id,
            username=data.manager_username,
            roles=["manager"],
        )
    return Onboarded(tenant_id, data.slug, data.manager_username, link)


async def set_status(request: Request, tree: Tree, tenant_id: int, status: str) -> None:
    node = tree.nodes.get(tenant_id)
    if node is None:
        raise ServiceError(_("Unknown centre."))
    scope = admin_scope(tree, request)
    async with db.write(scope):
        await queries.update_tenant(scope, tenant_id, status=status)
        await audit.record(
            request,
            "tenant.status",
            tenant_id=tenant_id,
            object_type="tenant",
            object_id=tenant_id,
            old=node.status,
            new=status,
        )
