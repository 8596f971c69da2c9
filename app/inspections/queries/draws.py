"""Random draws (双随机) and what they draw from: supervisors, memberships, concluded cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import db
from app.accounts.roles import parse_roles
from app.accounts.tables import Membership, User
from app.cases.tables import Case
from app.inspections.tables import Draw
from app.tenancy.scope import TenantScope


async def supervisors(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """Active supervisors (active accounts) of one tenant, by user id."""
    async with db.read(scope):
        rows = await Membership.select(
            Membership.roles,
            Membership.user.id.as_alias("user_id"),
            Membership.user.display_name.as_alias("display_name"),
            Membership.user.active.as_alias("user_active"),
        ).where(
            (Membership.tenant == tenant_id)
            & Membership.active.eq(True)
            & Membership.tenant.is_in(list(scope.read_ids))
        )
    return sorted(
        (
            {"user_id": r["user_id"], "display_name": r["display_name"]}
            for r in rows
            if r["user_active"] and "supervisor" in parse_roles(r["roles"])
        ),
        key=lambda r: r["user_id"],
    )


async def member_ids(scope: TenantScope, tenant_ids: list[int]) -> dict[int, set[int]]:
    """Tenant id → user ids of its active memberships."""
    if not tenant_ids:
        return {}
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    async with db.read(scope):
        rows = await Membership.select(Membership.tenant, Membership.user).where(
            Membership.tenant.is_in(allowed or [0]) & Membership.active.eq(True)
        )
    out: dict[int, set[int]] = {}
    for r in rows:
        out.setdefault(r["tenant_id"], set()).add(r["user_id"])
    return out


async def user_names(scope: TenantScope, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    async with db.read(scope):
        rows = await User.select(User.id, User.display_name).where(User.id.is_in(user_ids))
    return {r["id"]: r["display_name"] for r in rows}


async def concluded_cases(
    scope: TenantScope, tenant_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Cases of one centre concluded in [start, end), by id."""
    async with db.read(scope):
        return (
            await Case.select(Case.id, Case.number, Case.item_name, Case.concluded_at)
            .where(
                (Case.tenant == tenant_id)
                & Case.tenant.is_in(list(scope.read_ids))
                & Case.concluded_at.is_not_null()
                & (Case.concluded_at >= start)
                & (Case.concluded_at < end)
            )
            .order_by(Case.id)
        )


async def cases_by_ids(scope: TenantScope, tenant_id: int, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    async with db.read(scope):
        return (
            await Case.select(Case.id, Case.number, Case.item_name, Case.concluded_at)
            .where(
                (Case.tenant == tenant_id)
                & Case.tenant.is_in(list(scope.read_ids))
                & Case.id.is_in(ids)
            )
            .order_by(Case.id)
        )


async def insert_draw(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (a supervisory row of a supervised tenant)."""
    if tenant_id not in scope.supervise_ids:
        from app.web.errors import NotFound

        raise NotFound()
    rows = await Draw.insert(Draw(tenant=tenant_id, **values)).returning(Draw.id)
    return int(rows[0]["id"])


async def draw(scope: TenantScope, draw_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Draw.select(
                *Draw.all_columns(),
                Draw.tenant.slug.as_alias("tenant_slug"),
                Draw.tenant.name.as_alias("tenant_name"),
                Draw.created_by.display_name.as_alias("created_by_name"),
            )
            .where((Draw.id == draw_id) & Draw.tenant.is_in(list(scope.read_ids)))
            .output(load_json=True)
            .first()
        )


async def draws(scope: TenantScope, tenant_ids: list[int], limit: int = 50) -> list[dict[str, Any]]:
    """The newest draws of these tenants (the division's and its centres' case draws)."""
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    async with db.read(scope):
        return (
            await Draw.select(
                *Draw.all_columns(),
                Draw.tenant.slug.as_alias("tenant_slug"),
                Draw.tenant.name.as_alias("tenant_name"),
                Draw.created_by.display_name.as_alias("created_by_name"),
            )
            .where(Draw.tenant.is_in(allowed or [0]))
            .order_by(Draw.id, ascending=False)
            .limit(limit)
            .output(load_json=True)
        )
