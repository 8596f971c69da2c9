"""The first platform admin: from ADMIN_USERNAME/ADMIN_PASSWORD, or a printed one-time link."""

from __future__ import annotations

from app import db
from app.accounts import passwords, queries, sessions
from app.accounts.services import issue_link
from app.settings import settings
from app.tenancy.scope import user_scope

NOBODY = user_scope(0)


async def ensure_admin() -> list[str]:
    """Lines to print at start-up (links are secrets: only to the operator's terminal)."""
    admins = await queries.platform_admins()
    if any(a.has_password and a.active for a in admins):
        return []
    if settings.admin_username and settings.admin_password:
        problems = passwords.problems(settings.admin_password, settings.admin_username)
        if problems:
            return ["ADMIN_PASSWORD rejected: " + " ".join(problems)]
        hashed = passwords.hash_password(settings.admin_password)
        async with db.write(NOBODY):
            row = await queries.user_by_username(settings.admin_username)
            if row is None:
                user_id = await queries.create_user(
                    settings.admin_username, settings.admin_username, admin=True
                )
            else:
                user_id = row["id"]
            await queries.update_user(user_id, password_hash=hashed, is_platform_admin=True)
            await queries.append_audit(
                None,
                user_id,
                settings.admin_username,
                "admin.bootstrap",
                "user",
                str(user_id),
                {},
                "",
            )
        name = settings.admin_username
        return [f"Platform admin {name!r} created from ADMIN_USERNAME/ADMIN_PASSWORD."]
    if not admins:
        return [
            "No platform admin exists. Set ADMIN_USERNAME and ADMIN_PASSWORD, "
            "or run: python -m app users create-admin USERNAME"
        ]
    lines = []
    async with db.write(NOBODY):
        for admin in admins:
            if admin.active and not admin.has_password:
                link = await issue_link(admin.id, None)
                lines.append(f"Set the password of platform admin {admin.username!r}: {link}")
    return lines


async def reset_link(username: str) -> str:
    row = await queries.user_by_username(username)
    if row is None:
        raise LookupError(f"no user {username!r}")
    async with db.write(NOBODY):
        await queries.expire_tokens(row["id"], sessions.now())
        link = await issue_link(row["id"], None)
        await queries.append_audit(
            None,
            None,
            "cli",
            "staff.reset_link",
            "user",
            str(row["id"]),
            {"username": username},
            "",
        )
    return link


async def create_admin(username: str, name: str) -> str:
    async with db.write(NOBODY):
        row = await queries.user_by_username(username)
        if row is None:
            user_id = await queries.create_user(username, name, admin=True)
        else:
            user_id = row["id"]
            await queries.update_user(user_id, is_platform_admin=True)
        link = await issue_link(user_id, None)
        await queries.append_audit(
            None, None, "cli", "admin.created", "user", str(user_id), {"username": username}, ""
        )
    return link
