"""Case-desk jobs: the deadline-light sweep and the recompute after a calendar change.

Importing this module (it is in ``app.jobs.TASK_MODULES``) registers the sweep, the
``cases.recompute`` actor and the calendar-change listener that enqueues it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.calendar.services import on_calendar_change
from app.cases import lights, stats
from app.jobs import actor, send
from app.jobs.sweeps import sweep


@sweep("cases.lights", every="minute")
async def move_lights(slot: str) -> None:
    """Move the lights whose moment has come (the slot only names the run)."""
    await lights.move_lights()


@sweep("cases.stats", every="minute")
async def refresh_stats(slot: str) -> None:
    """Recompute the monthly figures of the centre-months marked since the last run."""
    await stats.refresh()


@actor(actor_name="cases.stats_now", queue_name="cases", max_retries=0)
async def refresh_now() -> None:
    """Recompute the centre-months a committed timeline event marked (the sweep is the net)."""
    await stats.refresh()


async def recompute_deadlines(tenant_ids: list[int], from_date: str) -> int:
    """The job's body: recompute the cases of ``tenant_ids`` from ``from_date`` (ISO)."""
    return await lights.recompute_tenants(
        [int(t) for t in tenant_ids], date.fromisoformat(from_date)
    )


@actor(actor_name="cases.recompute", queue_name="cases")
async def recompute(tenant_ids: list[int], from_date: str) -> None:
    """Recompute the deadlines of ``tenant_ids`` after their calendar changed (idempotent)."""
    await recompute_deadlines(tenant_ids, from_date)


@on_calendar_change
async def calendar_changed(tenant_ids: Iterable[int], from_date: date) -> None:
    """Enqueue the recompute (ids and an ISO date only) once the change has committed."""
    send(recompute, sorted(int(t) for t in tenant_ids), from_date.isoformat())
