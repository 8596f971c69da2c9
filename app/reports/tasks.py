"""Monthly-report jobs: the periods opening each month, the reminders, and the exports.

Importing this module (it is in ``app.jobs.TASK_MODULES``) registers both sweeps and the
``reports.export`` actor.  Everything here is idempotent: a period opens once, a reminder is
claimed once, a finished export is never built again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.jobs import actor
from app.jobs.sweeps import sweep
from app.reports import exports, periods, reminders

EXPORT_TIME_LIMIT_MS = 30 * 60 * 1000  # large roll-ups; dramatiq's default is 10 minutes


@sweep("reports.periods", every="day")
async def open_periods(slot: str) -> None:
    """Open last month's period of every active form (from the 1st; catches up later)."""
    await periods.open_due(datetime.now(UTC))


@sweep("reports.reminders", every="hour")
async def send_reminders(slot: str) -> None:
    """Remind the centres that have not filed, three working days before and on the due day."""
    await reminders.send_due(datetime.now(UTC))


@actor(
    actor_name="reports.export",
    queue_name="exports",
    time_limit=EXPORT_TIME_LIMIT_MS,
    max_retries=2,
)
async def export(job_id: int) -> None:
    """Build export job ``job_id`` (a done job is left as it is)."""
    await exports.run(int(job_id))
