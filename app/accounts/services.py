"""Login, lockout, passwords, one-time links and a manager's staff — rules and transactions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request

from app import db
from app.accounts import audit, passwords, queries, sessions
from app.accounts.queries import UserInfo
from app.accounts.roles import ROLES
from app.settings import settings
from app.tenancy.scope import TenantScope, user_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import join_sentences

NOBODY = user_scope(0)


class ServiceError(Exception):
    """A rule was broken; the message is shown in the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


# --- login --------------------------------------------------------------------------


async def is_locked(username: str, ip: str) -> bool:
    since = sessions.now() - timedelta(minutes=settings.lockout_minutes)
    return await queries.failures_since(username, ip, since) >= settings.lockout_attempts


async def login(request: Request, username: str, password: str) -> UserInfo:
    """Check the password and start a session; one message for every failure."""
    username = username.strip()
    ip = _ip(request)
    failure = ServiceError(_("Wrong username or password."))
    if await is_locked(username, ip):
        # Still burn a hash so a locked account answers no faster than a live one.
        passwords.verify(None, password)
        async with db.write(NOBODY):
            await audit.record(request, "login.locked", actor_name=username[:64])
        raise ServiceError(
            _(
                "Too many failed attempts from this computer. Try again in %(n)d minutes, "
                "or ask your centre manager to unlock the account.",
                n=settings.lockout_minutes,
            )
        )
    row = await queries.user_by_username(username)
    ok = passwords.verify(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["active"]:
        async with db.write(NOBODY):
            await queries.record_failure(username[:64], ip)
            await audit.record(request, "login.failed", actor_name=username[:64])
        raise failure
    user = await queries.user_by_id(row["id"])
    assert user is not None
    async with db.write(NOBODY):
        await queries.clear_failures(username, ip)
        await sessions.login(request, user)
        await audit.record(request, "login", actor_id=user.id, actor_name=user.username)
    if passwords.hasher().check_needs_rehash(row["password_hash"]):
        await queries.update_user(user.id, password_hash=passwords.hash_password(password))
    return user


async def logout(request: Request) -> None:
    session = request.scope["state"].get("session")
    async with db.write(NOBODY):
        if session is not None and session.user is not None:
            await audit.record(request, "logout")
        await sessions.logout(request)


# --- passwords ----------------------------------------------------------------------


async def change_password(request: Request, user: UserInfo, current: str, new: str) -> None:
    row = await queries.user_by_username(user.username)
    if row is None or not passwords.verify(row["password_hash"], current):
        raise ServiceError(_("The current password is wrong."), "current")
    problems = passwords.problems(new, user.username)
    if problems:
        raise ServiceError(join_sentences(problems), "new")
    hashed = passwords.hash_password(new)
    async with db.write(NOBODY):
        await queries.update_user(user.id, password_hash=hashed, password_changed_at=sessions.now())
        await queries.delete_user_sessions(user.id)
        await sessions.login(request, user)
        await audit.record(request, "password.changed", object_type="user", object_id=user.id)


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def issue_link(user_id: int, created_by: int | None) -> str:
    """A one-time set-password link (inside the caller's transaction); returns the URL."""
    token = new_token()
    expires = sessions.now() + timedelta(hours=settings.reset_link_hours)
    await queries.create_token(sessions.digest(token), user_id, created_by, expires)
    return f"{settings.base_url}/password/set/{token}"


async def link_target(token: str) -> dict | None:
    row = await queries.token(sessions.digest(token))
    if row is None or row["used_at"] is not None or not row["active"]:
        return None
    expires = row["expires_at"]
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=sessions.UTC)
    if expires < sessions.now():
        return None
    return row


async def set_password_with_link(request: Request, token: str, new: str) -> UserInfo:
    row = await link_target(token)
    if row is None:
        raise NotFound()
    problems = passwords.problems(new, row["username"])
    if problems:
        raise ServiceError(join_sentences(problems), "new")
    hashed = passwords.hash_password(new)
    async with db.write(NOBODY):
        if not await queries.use_token(row["id"], sessions.now()):
            raise NotFound()
        await queries.expire_tokens(row["user_id"], sessions.now())
        await queries.update_user(
            row["user_id"], password_hash=hashed, password_changed_at=sessions.now()
        )
        await queries.delete_user_sessions(row["user_id"])
        await audit.record(
            request,
            "password.set_by_link",
            actor_id=row["user_id"],
            actor_name=row["username"],
            object_type="user",
            object_id=row["user_id"],
        )
    user = await queries.user_by_id(row["user_id"])
    assert user is not None
    return user


# --- a manager's staff ----------------------------------------------------------------


@dataclass
class NewStaff:
    username: str
    display_name: str
    roles: set[str]
    department_ids: list[int]
    title: str = ""


async def add_staff(request: Request, scope: TenantScope, data: NewStaff) -> tuple[int, str | None]:
    """Add a member to the scope's tenant; a new user gets a set-password link."""
    scope.require("staff.manage")
    tenant_id = scope.own()
    if not data.roles or not data.roles <= set(ROLES):
        raise ServiceError(_("Choose at least one role."), "roles")
    if "supervisor" in data.roles and not scope.can("subtree.view"):
        raise ServiceError(_("Only the division can grant the supervisor role."), "roles")
    link = None
    async with db.write(scope):
        existing = await queries.user_by_username(data.username)
        if existing is not None and scope.can("staff.link"):
            user_id = existing["id"]
            if await queries.membership_of(scope, tenant_id, user_id) is not None:
                raise ServiceError(
                    _("This user is already on the staff of this centre."), "username"
                )
        elif existing is not None:
            # Whose account it is stays unsaid: another centre's staff are not this one's
            # to look up or to enrol.  A person working in two centres is linked by the
            # platform admin.
            raise ServiceError(
                _(
                    "This username is already taken. Choose another, or ask the platform "
                    "admin to add an existing account to this centre."
                ),
                "username",
            )
        else:
            user_id = await queries.create_user(data.username, data.display_name)
            link = await issue_link(user_id, scope.user_id)
        member_id = await queries.add_membership(scope, tenant_id, user_id, data.roles, data.title)
        await queries.set_member_departments(scope, tenant_id, member_id, data.department_ids)
        await audit.record(
            request,
            "staff.added",
            tenant_id=tenant_id,
            object_type="membership",
            object_id=member_id,
            username=data.username,
            roles=sorted(data.roles),
        )
    return member_id, link


async def _member(scope: TenantScope, membership_id: int) -> dict:
    scope.require("staff.manage")
    row = await queries.membership(scope, membership_id)
    if row is None or row["tenant_id"] not in scope.write_ids:
        raise NotFound()
    return row


async def update_staff(
    request: Request,
    scope: TenantScope,
    membership_id: int,
    roles: set[str],
    department_ids: list[int],
    title: str,
) -> None:
    row = await _member(scope, membership_id)
    if not roles or not roles <= set(ROLES):
        raise ServiceError(_("Choose at least one role."), "roles")
    if "supervisor" in (roles ^ set(row["roles"])) and not scope.can("subtree.view"):
        raise ServiceError(_("Only the division can grant the supervisor role."), "roles")
    async with db.write(scope):
        await queries.update_membership(scope, membership_id, roles=roles, title=title)
        await queries.set_member_departments(scope, row["tenant_id"], membership_id, department_ids)
        await audit.record(
            request,
            "staff.updated",
            tenant_id=row["tenant_id"],
            object_type="membership",
            object_id=membership_id,
            roles=sorted(roles),
            departments=department_ids,
        )


async def set_active(
    request: Request, scope: TenantScope, membership_id: int, active: bool
) -> None:
    row = await _member(scope, membership_id)
    if not active and row["user_id"] == scope.user_id:
        raise ServiceError(_("You cannot deactivate yourself."))
    async with db.write(scope):
        await queries.update_membership(scope, membership_id, active=active)
        if not active:
            await queries.delete_user_sessions(row["user_id"])
            await queries.expire_tokens(row["user_id"], sessions.now())
        await audit.record(
            request,
            "staff.activated" if active else "staff.deactivated",
            tenant_id=row["tenant_id"],
            object_type="membership",
            object_id=membership_id,
            username=row["username"],
        )


async def reset_link(request: Request, scope: TenantScope, membership_id: int) -> str:
    row = await _member(scope, membership_id)
    if not row["active"]:
        raise ServiceError(_("Activate the account before issuing a link."))
    async with db.write(scope):
        await queries.expire_tokens(row["user_id"], sessions.now())
        link = await issue_link(row["user_id"], scope.user_id)
        await audit.record(
            request,
            "staff.reset_link",
            tenant_id=row["tenant_id"],
            object_type="membership",
            object_id=membership_id,
            username=row["username"],
        )
    return link


async def unlock(request: Request, scope: TenantScope, membership_id: int) -> int:
    scope.require("staff.unlock")
    row = await queries.membership(scope, membership_id)
    if row is None:
        raise NotFound()
    async with db.write(scope):
        cleared = await queries.clear_failures(row["username"])
        await audit.record(
            request,
            "staff.unlocked",
            tenant_id=row["tenant_id"],
            object_type="membership",
            object_id=membership_id,
            username=row["username"],
            cleared=cleared,
        )
    return cleared


async def locked(usernames: list[str]) -> set[str]:
    since = sessions.now() - timedelta(minutes=settings.lockout_minutes)
    return await queries.locked_usernames(usernames, since, settings.lockout_attempts)
