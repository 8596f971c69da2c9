"""Keeping the monthly case figures (app.metrics) current: the sweep recomputes every
centre-month a timeline event marked, so the stored figures are at most about a minute
behind; ``rebuild`` recomputes everything (after a restore, or to check)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app import db
from app.cases.queries import stats as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope

log = logging.getLogger("bianmin.cases.stats")
BATCH = 200


async def refresh(now: datetime | None = None) -> int:
    """Recompute the marked centre-months; returns how many were recomputed."""
    now = now or datetime.now(UTC)
    scope = system_scope(await tenancy.tree(), reason="cases.stats: monthly figures")
    done = 0
    while True:
        async with db.write(scope):
            marked = await queries.take_dirty(scope, BATCH)
            for tenant_id, month in marked:
                counts = await queries.count_month(scope, tenant_id, month)
                await queries.store_month(scope, tenant_id, month, counts, now)
        done += len(marked)
        if len(marked) < BATCH:
            return done


async def rebuild(now: datetime | None = None) -> int:
    """Recompute the figures of every centre-month that has cases."""
    now = now or datetime.now(UTC)
    scope = system_scope(await tenancy.tree(), reason="cases.stats: rebuild")
    months = await queries.months_with_cases(scope)
    async with db.write(scope):
        for tenant_id, month in months:
            counts = await queries.count_month(scope, tenant_id, month)
            await queries.store_month(scope, tenant_id, month, counts, now)
    return len(months)
