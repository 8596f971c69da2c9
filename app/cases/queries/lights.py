"""What the light sweep and the calendar-change recompute read (system scope, by tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import db
from app.cases.queries.core import CASE_COLUMNS
from app.cases.tables import Case
from app.cases.workflow import CLOCK_RUNNING, OPEN
from app.tenancy.scope import TenantScope


async def lights_due(scope: TenantScope, now: datetime, limit: int) -> list[dict[str, Any]]:
    """(id, tenant) of running, unpaused cases whose light changes at or before ``now``."""
    async with db.read(scope):
        return (
            await Case.select(Case.id, Case.tenant)
            .where(
                (Case.light_changes_at <= now)
                & Case.state.is_in(sorted(CLOCK_RUNNING))
                & (Case.paused == False)  # noqa: E712 - Piccolo builds SQL from ==
                & Case.tenant.is_in(list(scope.read_ids))
            )
            .order_by(Case.light_changes_at)
            .limit(limit)
        )


async def cases_for_update(
    scope: TenantScope, tenant_id: int, case_ids: list[int]
) -> list[dict[str, Any]]:
    """Cases of one tenant, read inside the caller's write (rows locked on PostgreSQL)."""
    if not case_ids:
        return []
    query = Case.select(*CASE_COLUMNS).where(
        Case.id.is_in(case_ids)
        & (Case.tenant == tenant_id)
        & Case.tenant.is_in(list(scope.write_ids | scope.supervise_ids))
    )
    if db.is_postgres():
        query = query.lock_rows("NO KEY UPDATE", of=(Case,))
    return await query.order_by(Case.id)


async def recompute_ids(
    scope: TenantScope, tenant_id: int, since: datetime, after_id: int, limit: int
) -> list[int]:
    """Ids of a tenant's cases whose deadlines a calendar change from ``since`` may move:
    every accepted case still open, and those closed (concluded or returned) since then."""
    async with db.read(scope):
        rows = (
            await Case.select(Case.id)
            .where(
                (Case.tenant == tenant_id)
                & Case.tenant.is_in(list(scope.read_ids))
                & (Case.id > after_id)
                & Case.accepted_at.is_not_null()
                & (
                    Case.state.is_in(sorted(OPEN))
                    | (Case.concluded_at >= since)
                    | ((Case.state == "returned") & (Case.updated_at >= since))
                )
            )
            .order_by(Case.id)
            .limit(limit)
        )
    return [int(r["id"]) for r in rows]
