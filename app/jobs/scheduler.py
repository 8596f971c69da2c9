"""The scheduler: once a minute, send each sweep's current slot (claims make it safe to run two)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from app.jobs import sweeps

log = logging.getLogger("bianmin.scheduler")


def seconds_to_next_minute(now: datetime) -> float:
    return 60 - now.second - now.microsecond / 1_000_000 + 0.05


async def run(stop: asyncio.Event) -> None:
    """Tick now and at the start of every minute until ``stop`` is set."""
    while not stop.is_set():
        try:
            sweeps.tick(datetime.now(UTC))
        except Exception:  # a broker hiccup must not kill the scheduler
            log.exception("scheduler tick failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds_to_next_minute(datetime.now(UTC)))
        except TimeoutError:
            pass
