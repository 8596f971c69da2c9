"""All database access for accounts: users, memberships, sessions, links, lockout, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns.combination import And, Where
from piccolo.querystring import QueryString

from app import db
from app.accounts.roles import format_roles, parse_roles
from app.accounts.tables import (
    AuditLog,
    LoginFailure,
    Membership,
    MembershipDepartment,
    PasswordToken,
    User,
    WebSession,
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


# --- sessions ------------------------------------------------------------------------


async def session_with_user(token_hash: str) -> dict[str, Any] | None:
    return (
        await WebSession.select(
            WebSession.id,
            WebSession.csrf_token,
            WebSession.last_seen,
            WebSession.user.id.as_alias("user_id"),
            WebSession.user.username.as_alias("username"),
            WebSession.user.display_name.as_alias("display_name"),
            WebSession.user.locale.as_alias("locale"),
            WebSession.user.is_platform_admin.as_alias("is_platform_admin"),
            WebSession.user.active.as_alias("active"),
        )
        .where(WebSession.token_hash == token_hash)
        .first()
    )


async def create_session(token_hash: str, csrf_token: str, user_id: int | None, ip: str) -> int:
    rows = await WebSession.insert(
        WebSession(token_hash=token_hash, csrf_token=csrf_token, user=user_id, ip=ip)
    ).returning(WebSession.id)
    return rows[0]["id"]


async def touch_session(session_id: int, now: datetime) -> None:
    await WebSession.update({WebSession.last_seen: now}).where(WebSession.id == session_id)


async def delete_session(session_id: int) -> None:
    await WebSession.delete().where(WebSession.id == session_id)


async def delete_user_sessions(user_id: int, keep: int | None = None) -> None:
    where: Where | And = WebSession.user == user_id
    if keep is not None:
        where &= WebSession.id != keep
    await WebSession.delete().where(where)


async def delete_idle_sessions(before: datetime) -> None:
    await WebSession.delete().where(WebSession.last_seen < before)


# --- lockout -------------------------------------------------------------------------


async def failures_since(username: str, ip: str, since: datetime) -> int:
    return await LoginFailure.count().where(
        (LoginFailure.username == username) & (LoginFailure.ip == ip) & (LoginFailure.at > since)
    )


async def record_failure(username: str, ip: str) -> None:
    await LoginFailure.insert(LoginFailure(username=username, ip=ip))


async def clear_failures(username: str, ip: str | None = None) -> int:
    where: Where | And = LoginFailure.username == username
    if ip is not None:
        where &= LoginFailure.ip == ip
    count = await LoginFailure.count().where(where)
    await LoginFailure.delete().where(where)
    return count


async def locked_usernames(usernames: list[str], since: datetime, limit: int) -> set[str]:
    if not usernames:
        return set()
    rows = await LoginFailure.select(LoginFailure.username, LoginFailure.ip).where(
        LoginFailure.username.is_in(usernames) & (LoginFailure.at > since)
    )
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["username"], r["ip"])
        counts[key] = counts.get(key, 0) + 1
    return {u for (u, _ip), n in counts.items() if n >= limit}


# --- one-time links ------------------------------------------------------------------


async def create_token(
    token_hash: str, user_id: int, created_by: int | None, expires_at: datetime
) -> None:
    await PasswordToken.insert(
        PasswordToken(
            token_hash=token_hash, user=user_id, created_by=created_by, expires_at=expires_at
        )
    )


async def token(token_hash: str) -> dict[str, Any] | None:
    return (
        await PasswordToken.select(
            PasswordToken.id,
            PasswordToken.expires_at,
            PasswordToken.used_at,
            PasswordToken.user.id.as_alias("user_id"),
            PasswordToken.user.username.as_alias("username"),
            PasswordToken.user.display_name.as_alias("display_name"),
            PasswordToken.user.active.as_alias("active"),
        )
        .where(PasswordToken.token_hash == token_hash)
        .first()
    )


async def use_token(token_id: int, now: datetime) -> bool:
    """Mark a link used; ``False`` if it was already used (a second tab, a replay)."""
    rows = (
        await PasswordToken.update({PasswordToken.used_at: now})
        .where((PasswordToken.id == token_id) & PasswordToken.used_at.is_null())
        .returning(PasswordToken.id)
    )
    return bool(rows)


async def expire_tokens(user_id: int, now: datetime) -> None:
    await PasswordToken.update({PasswordToken.used_at: now}).where(
        (PasswordToken.user == user_id) & PasswordToken.used_at.is_null()
    )


# --- audit log (append-only) ----------------------------------------------------------


async def append_audit(
    tenant_id: int | None,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any],
    ip: str,
) -> None:
    # A plain INSERT without RETURNING: the row may be invisible to the writer under RLS.
    await db.engine().run_querystring(
        QueryString(
            "INSERT INTO audit_log (tenant_id, actor_id, actor_name, action, object_type,"
            " object_id, detail, ip, at, note) VALUES ({}, {}, {}, {}, {}, {}, {}, {},"
            " CURRENT_TIMESTAMP, '')",
            tenant_id,
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            json.dumps(detail, ensure_ascii=False),
            ip,
        )
    )


async def audit_entries(
    scope: TenantScope, tenant_id: int | None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    async with db.read(scope):
        where = (
            AuditLog.tenant.is_null()
            if tenant_id is None
            else (AuditLog.tenant == tenant_id) & AuditLog.tenant.is_in(list(scope.read_ids))
        )
        if before_id:
            where &= AuditLog.id < before_id
        return (
            await AuditLog.select(
                AuditLog.id,
                AuditLog.actor_name,
                AuditLog.action,
                AuditLog.object_type,
                AuditLog.object_id,
                AuditLog.detail,
                AuditLog.ip,
                AuditLog.at,
            )
            .where(where)
            .order_by(AuditLog.id, ascending=False)
            .limit(limit)
            .output(load_json=True)
        )
