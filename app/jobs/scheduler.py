"""The scheduler: once a minute, send each sweep's current slot (claims make it safe to run two).

``BIANMIN_SCHEDULER_TICK_SECONDS`` (test-only) ticks every that many seconds instead of at
the start of each minute, so a test can watch several ticks of two schedulers quickly.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime

from app.jobs import sweeps

log = logging.getLogger("bianmin.scheduler")
TICK_SECONDS = float(os.environ.get("BIANMIN_SCHEDULER_TICK_SECONDS") or 0)


def seconds_to_next_minute(now: datetime) -> float:
    return 60 - now.second - now.microsecond / 1_000_000 + 0.05


async def run(stop: asyncio.Event) -> None:
    """Tick now and at the start of every minute until ``stop`` is set."""
    while not stop.is_set():
        try:
            sweeps.tick(datetime.now(UTC))
        except Exception:  # a broker hiccup must not kill the scheduler
            log.exception("scheduler tick failed")
        wait = TICK_SECONDS or seconds_to_next_minute(datetime.now(UTC))
        try:
            await asyncio.wait_for(stop.wait(), timeout=wait)
        except TimeoutError:
            pass
