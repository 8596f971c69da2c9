"""Deadline lights as time passes, and deadlines after a calendar change.

- :func:`move_lights` (the minute sweep): every running, unpaused case whose
  ``light_changes_at`` has come is recomputed from its timeline.  The rows are read again
  inside the write (locked on PostgreSQL) so an action taken meanwhile is never
  overwritten with stale columns; a second run finds nothing to do.
- :func:`recompute_tenants` (the ``cases.recompute`` job): after the calendar of some
  tenants changed from a date on, every accepted case still open and every case closed
  since then is recomputed; only cases whose columns move are written, with a timeline
  event when a due date or the on-time verdict changed.

Both cross tenants and so run under an explicit system scope, one tenant's calendar at a
time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

from app import db
from app.calendar.workdays import SHANGHAI, TenantCalendar
from app.cases import deadlines, timeline
from app.cases.queries import core
from app.cases.queries import lights as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope

log = logging.getLogger("bianmin.cases")

BATCH = 200


async def _recompute_batch(
    scope: TenantScope,
    tenant_id: int,
    case_ids: list[int],
    cal: TenantCalendar,
    margin: int,
    now: datetime,
    *,
    only_due: bool,
) -> int:
    """Recompute one tenant's cases in one write; returns how many rows changed."""
    changed = 0
    async with db.write(scope):
        rows = await queries.cases_for_update(scope, tenant_id, case_ids)
        timelines = await core.events_of_cases(scope, [r["id"] for r in rows])
        for case in rows:
            if only_due and (
                case["paused"] or case["light_changes_at"] is None or case["light_changes_at"] > now
            ):
                continue  # an action moved it meanwhile
            events = timelines[case["id"]]
            result = deadlines.compute(
                case["promised_halves"], case["legal_halves"], events, cal, now, margin
            )
            if not only_due and _same(case, result):
                continue
            await timeline.recompute(scope, case, events, cal, now, margin)
            if not only_due and _dates_moved(case, result):
                await core.insert_event(
                    scope,
                    tenant_id,
                    case["id"],
                    at=now,
                    action="recomputed",
                    actor_id=None,
                    state=case["state"],
                    data=_moves(case, result),
                )
            changed += 1
    return changed


def _same(case: dict[str, Any], result: deadlines.Deadline) -> bool:
    return all(case[k] == v for k, v in result.columns().items())


def _dates_moved(case: dict[str, Any], result: deadlines.Deadline) -> bool:
    return (
        case["promised_due_at"] != result.promised_due_at
        or case["legal_due_at"] != result.legal_due_at
        or case["on_time"] != result.on_time
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moves(case: dict[str, Any], result: deadlines.Deadline) -> dict[str, Any]:
    return {
        "promised_from": _iso(case["promised_due_at"]),
        "promised_to": _iso(result.promised_due_at),
        "legal_from": _iso(case["legal_due_at"]),
        "legal_to": _iso(result.legal_due_at),
        "on_time": result.on_time,
    }


async def move_lights(now: datetime | None = None) -> int:
    """The sweep: recompute every case whose light changes by ``now``; returns how many."""
    now = now or timeline.utcnow()
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="cases: deadline light sweep")
    moved = 0
    while True:
        due = await queries.lights_due(scope, now, BATCH)
        if not due:
            return moved
        by_tenant: dict[int, list[int]] = defaultdict(list)
        for row in due:
            by_tenant[int(row["tenant_id"])].append(int(row["id"]))
        batch = 0
        for tenant_id, ids in by_tenant.items():
            cal, margin = await timeline.clock(scope, tenant_id)
            batch += await _recompute_batch(scope, tenant_id, ids, cal, margin, now, only_due=True)
        moved += batch
        if batch == 0 or len(due) < BATCH:
            return moved


def start_of(day: date) -> datetime:
    """The first moment of a local (Asia/Shanghai) day."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


async def recompute_tenants(
    tenant_ids: list[int], from_date: date, now: datetime | None = None
) -> int:
    """The calendar of ``tenant_ids`` changed from ``from_date``: recompute their cases."""
    now = now or timeline.utcnow()
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="cases: recompute deadlines after a calendar change")
    since = start_of(from_date)
    changed = 0
    for tenant_id in sorted(set(tenant_ids) & set(tree.nodes)):
        cal, margin = await timeline.clock(scope, tenant_id)
        after = 0
        while True:
            ids = await queries.recompute_ids(scope, tenant_id, since, after, BATCH)
            if not ids:
                break
            changed += await _recompute_batch(
                scope, tenant_id, ids, cal, margin, now, only_due=False
            )
            after = ids[-1]
    if changed:
        log.info("recomputed the deadlines of %d cases from %s", changed, from_date)
    return changed
