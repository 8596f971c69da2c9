"""Keeping the monthly case figures (app.metrics) current: every transaction that adds a
timeline event sends ``cases.stats_now`` once it commits, which recomputes the centre-months
marked (a few ms each), and the minute sweep does the same as a safety net — so the stored
figures follow a change within seconds, and at most a minute when the worker was busy;
``rebuild`` recomputes everything (after a restore, or to check)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app import db
from app.cases.queries import stats as queries
from app.jobs import faults
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
            if not await queries.claim_refresh(scope):
                return done  # another refresh is running; it or the next one takes the rest
            marked = await queries.take_dirty(scope, BATCH)
            for tenant_id, month in marked:
                counts = await queries.count_month(scope, tenant_id, month)
                await queries.store_month(scope, tenant_id, month, counts, now)
                await faults.checkpoint("cases.stats.stored")  # some months written, uncommitted
        done += len(marked)
        if len(marked) < BATCH:
            return done


def refresh_soon() -> None:
    """Send ``cases.stats_now`` once the current transaction commits (once per transaction)."""
    from app.cases import tasks

    db.on_commit_once("cases.stats_now", lambda: tasks.refresh_now.send())


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
