"""Failed logins, counted per account and address."""

from __future__ import annotations

from datetime import datetime

from piccolo.columns.combination import And, Where

from app.accounts.tables import LoginFailure

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


async def forget_failures(before: datetime) -> None:
    await LoginFailure.delete().where(LoginFailure.at < before)
