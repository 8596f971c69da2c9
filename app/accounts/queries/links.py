"""One-time set-password links (stored as SHA-256)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.accounts.tables import PasswordToken

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
