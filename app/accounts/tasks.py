"""Account housekeeping sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.accounts import queries
from app.jobs.sweeps import sweep
from app.settings import settings


@sweep("accounts.forget_idle", every="hour")
async def forget_idle(slot: str) -> None:
    """Drop sessions idle past the timeout and failed logins older than a day."""
    now = datetime.now(UTC)
    await queries.delete_idle_sessions(now - timedelta(minutes=settings.session_idle_minutes))
    await queries.forget_failures(now - timedelta(days=1))
