"""Server-side session rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.columns.combination import And, Where

from app.accounts.tables import WebSession

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
