"""All database access for accounts.

Users and memberships live here; sessions, lockout, one-time links and the audit log in
the modules beside it, re-exported so callers write ``queries.<function>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app import db
from app.accounts.roles import format_roles, parse_roles
from app.accounts.tables import (
    Membership,
    MembershipDepartment,
    User,
    WindowPost,
)
from app.tenancy.scope import TenantScope


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    locale: str
    is_platform_admin: bool
    active: bool
    has_password: bool


def _user(row: dict[str, Any]) -> UserInfo:
    return UserInfo(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        locale=row["locale"] or "",
        is_platform_admin=bool(row["is_platform_admin"]),
        active=bool(row["active"]),
        has_password=bool(row.get("password_hash")),
    )


# --- users (global, not tenant-owned) -------------------------------------------------


async def user_by_username(username: str) -> dict[str, Any] | None:
    return await User.select().where(User.username == username).first()


async def user_by_id(user_id: int) -> UserInfo | None:
    row = await User.select().where(User.id == user_id).first()
    return _user(row) if row else None


async def create_user(
    username: str, display_name: str, phone: str = "", admin: bool = False
) -> int:
    rows = await User.insert(
        User(username=username, display_name=display_name, phone=phone, is_platform_admin=admin)
    ).returning(User.id)
    return rows[0]["id"]


async def update_user(user_id: int, **values: Any) -> None:
    await User.update({getattr(User, k): v for k, v in values.items()}).where(User.id == user_id)


async def platform_admins() -> list[UserInfo]:
    rows = await User.select().where(User.is_platform_admin.eq(True)).order_by(User.id)
    return [_user(r) for r in rows]


# --- memberships (tenant-owned, class "membership") -----------------------------------


async def my_memberships(scope: TenantScope) -> dict[int, frozenset[str]]:
    """Tenant id → roles of the scope user's active memberships (RLS: own rows)."""
    async with db.read(scope):
        rows = await Membership.select(Membership.tenant, Membership.roles).where(
            (Membership.user == scope.user_id) & (Membership.active.eq(True))
        )
    return {r["tenant_id"]: parse_roles(r["roles"]) for r in rows}


async def members(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        rows = (
            await Membership.select(
                Membership.id,
                Membership.roles,
                Membership.title,
                Membership.active,
                Membership.user.id.as_alias("user_id"),
                Membership.user.username.as_alias("username"),
                Membership.user.display_name.as_alias("display_name"),
                Membership.user.password_hash.as_alias("password_hash"),
            )
            .where((Membership.tenant == tenant_id) & Membership.tenant.is_in(list(scope.read_ids)))
            .order_by(Membership.id)
        )
        depts = await MembershipDepartment.select(
            MembershipDepartment.membership,
            MembershipDepartment.department.short_name.as_alias("short_name"),
        ).where(
            (MembershipDepartment.tenant == tenant_id)
            & MembershipDepartment.tenant.is_in(list(scope.read_ids))
        )
    by_member: dict[int, list[str]] = {}
    for d in depts:
        by_member.setdefault(d["membership_id"], []).append(d["short_name"])
    for row in rows:
        row["roles"] = parse_roles(row["roles"])
        row["has_password"] = bool(row.pop("password_hash"))
        row["departments"] = by_member.get(row["id"], [])
    return rows


async def membership(scope: TenantScope, membership_id: int) -> dict[str, Any] | None:
    """One membership of the scope's own tenant, or ``None`` (another tenant's is missing)."""
    async with db.read(scope):
        row = (
            await Membership.select(
                Membership.id,
                Membership.tenant,
                Membership.roles,
                Membership.active,
                Membership.user.id.as_alias("user_id"),
                Membership.user.username.as_alias("username"),
                Membership.user.display_name.as_alias("display_name"),
            )
            .where(
                (Membership.id == membership_id)
                & (Membership.tenant == scope.tenant_id)
                & Membership.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )
    if row:
        row["roles"] = parse_roles(row["roles"])
    return row


async def membership_of(scope: TenantScope, tenant_id: int, user_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Membership.select()
            .where((Membership.tenant == tenant_id) & (Membership.user == user_id))
            .first()
        )


async def add_membership(
    scope: TenantScope,
    tenant_id: int,
    user_id: int,
    roles: set[str] | frozenset[str],
    title: str = "",
) -> int:
    scope.check_write(tenant_id)
    rows = await Membership.insert(
        Membership(tenant=tenant_id, user=user_id, roles=format_roles(roles), title=title)
    ).returning(Membership.id)
    return rows[0]["id"]


async def update_membership(scope: TenantScope, membership_id: int, **values: Any) -> None:
    if "roles" in values:
        values["roles"] = format_roles(values["roles"])
    await Membership.update({getattr(Membership, k): v for k, v in values.items()}).where(
        (Membership.id == membership_id) & Membership.tenant.is_in(list(scope.write_ids))
    )


async def set_member_departments(
    scope: TenantScope, tenant_id: int, membership_id: int, department_ids: list[int]
) -> None:
    scope.check_write(tenant_id)
    await MembershipDepartment.delete().where(
        (MembershipDepartment.membership == membership_id)
        & (MembershipDepartment.tenant == tenant_id)
    )
    for dept in department_ids:
        await MembershipDepartment.insert(
            MembershipDepartment(tenant=tenant_id, membership=membership_id, department=dept)
        )


async def member_department_ids(scope: TenantScope, membership_id: int) -> list[int]:
    async with db.read(scope):
        rows = await MembershipDepartment.select(MembershipDepartment.department).where(
            (MembershipDepartment.membership == membership_id)
            & MembershipDepartment.tenant.is_in(list(scope.read_ids))
        )
    return sorted(r["department_id"] for r in rows)


async def set_window_post(
    scope: TenantScope, tenant_id: int, window_id: int, post: str, user_id: int
) -> bool:
    """Upsert who holds ``post`` (A/B) at a window; ``True`` when something changed."""
    scope.check_write(tenant_id)
    row = (
        await WindowPost.select()
        .where(
            (WindowPost.tenant == tenant_id)
            & (WindowPost.window == window_id)
            & (WindowPost.post == post)
        )
        .first()
    )
    if row and row["user_id"] == user_id:
        return False
    if row:
        await WindowPost.update({WindowPost.user: user_id}).where(WindowPost.id == row["id"])
    else:
        await WindowPost.insert(
            WindowPost(tenant=tenant_id, window=window_id, post=post, user=user_id)
        )
    return True


async def window_posts(scope: TenantScope, tenant_id: int) -> dict[int, dict[str, str]]:
    """Window id → {"A": display name, "B": display name}."""
    async with db.read(scope):
        rows = await WindowPost.select(
            WindowPost.window, WindowPost.post, WindowPost.user.display_name.as_alias("name")
        ).where((WindowPost.tenant == tenant_id) & WindowPost.tenant.is_in(list(scope.read_ids)))
    out: dict[int, dict[str, str]] = {}
    for r in rows:
        out.setdefault(r["window_id"], {})[r["post"]] = r["name"]
    return out


from app.accounts.queries.audit import append_audit, audit_entries  # noqa: E402
from app.accounts.queries.links import create_token, expire_tokens, token, use_token  # noqa: E402
from app.accounts.queries.lockout import (  # noqa: E402
    clear_failures,
    failures_since,
    forget_failures,
    locked_usernames,
    record_failure,
)
from app.accounts.queries.sessions import (  # noqa: E402
    create_session,
    delete_idle_sessions,
    delete_session,
    delete_user_sessions,
    session_with_user,
    touch_session,
)

__all__ = [
    "UserInfo",
    "add_membership",
    "append_audit",
    "audit_entries",
    "clear_failures",
    "create_session",
    "create_token",
    "create_user",
    "delete_idle_sessions",
    "delete_session",
    "delete_user_sessions",
    "expire_tokens",
    "failures_since",
    "forget_failures",
    "locked_usernames",
    "member_department_ids",
    "members",
    "membership",
    "membership_of",
    "my_memberships",
    "platform_admins",
    "record_failure",
    "session_with_user",
    "set_member_departments",
    "set_window_post",
    "token",
    "touch_session",
    "update_membership",
    "update_user",
    "use_token",
    "user_by_id",
    "user_by_username",
    "window_posts",
]
