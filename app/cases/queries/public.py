"""The public side of the case desk: lookup attempts (rate limits) and ratings (好差评)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app import db
from app.cases.tables import Rating, TrackAttempt
from app.tenancy.scope import TenantScope

# --- lookup attempts ---------------------------------------------------------------------


async def failures_since(
    scope: TenantScope,
    tenant_id: int,
    since: datetime,
    *,
    ip: str | None = None,
    number: str | None = None,
) -> int:
    """Failed lookups at one centre since ``since``, from one address or for one number."""
    where = (
        (TrackAttempt.tenant == tenant_id)
        & TrackAttempt.tenant.is_in(list(scope.read_ids))
        & (TrackAttempt.ok == False)  # noqa: E712 - a Piccolo expression
        & (TrackAttempt.at >= since)
    )
    if ip is not None:
        where &= TrackAttempt.ip == ip
    if number is not None:
        where &= TrackAttempt.number == number
    async with db.read(scope):
        return int(await TrackAttempt.count().where(where))


async def insert_attempt(
    scope: TenantScope, tenant_id: int, ip: str, number: str, ok: bool, at: datetime
) -> None:
    """Inside the caller's write transaction."""
    scope.check_write(tenant_id)
    await TrackAttempt.insert(
        TrackAttempt(tenant=tenant_id, ip=ip[:64], number=number[:40], ok=ok, at=at)
    )


async def purge_attempts(scope: TenantScope, tenant_id: int, before: datetime) -> None:
    """Forget a centre's attempts older than the longest window (inside a write)."""
    scope.check_write(tenant_id)
    await TrackAttempt.delete().where(
        (TrackAttempt.tenant == tenant_id) & (TrackAttempt.at < before)
    )


# --- ratings -----------------------------------------------------------------------------


def _reasons(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("reasons")
    row["reasons"] = (json.loads(value) if isinstance(value, str) else value) or []
    return row


async def rating_of_case(scope: TenantScope, case_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        row = (
            await Rating.select(*Rating.all_columns())
            .where((Rating.case == case_id) & Rating.tenant.is_in(list(scope.read_ids)))
            .first()
        )
    return _reasons(row) if row else None


async def rating(scope: TenantScope, rating_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        row = (
            await Rating.select(*Rating.all_columns())
            .where((Rating.id == rating_id) & Rating.tenant.is_in(list(scope.read_ids)))
            .first()
        )
    return _reasons(row) if row else None


async def insert_rating(
    scope: TenantScope,
    tenant_id: int,
    case_id: int,
    *,
    level: int,
    reasons: list[str],
    comment: str,
    channel: str,
    at: datetime,
) -> int:
    """Inside the caller's write; the unique key (tenant_id, case_id) refuses a second one."""
    scope.check_write(tenant_id)
    rows = await Rating.insert(
        Rating(
            tenant=tenant_id,
            case=case_id,
            level=level,
            reasons=reasons,
            comment=comment,
            channel=channel,
            rated_at=at,
        )
    ).returning(Rating.id)
    return int(rows[0]["id"])
