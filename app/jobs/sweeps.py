"""Periodic sweeps: registered by name, claimed per (sweep, slot), sent by the scheduler.

The scheduler sends every sweep's *current* slot each minute; the first message to claim a
slot runs it and every other one (a second scheduler, a redelivery, a re-run) finds the slot
taken.  A scheduler that was down catches up at its next tick.  Sweeps recompute from the
database, so a slot that failed half-way is made good by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from app.jobs import actor
from app.jobs import queries as sweep_queries

log = logging.getLogger("bianmin.sweeps")
LOCAL = ZoneInfo("Asia/Shanghai")
Every = Literal["minute", "hour", "day"]
FORMATS: dict[str, str] = {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}


@dataclass(frozen=True)
class Sweep:
    name: str
    every: Every
    run: Callable[[str], Awaitable[None]]


SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, every: Every) -> Callable[[Callable[[str], Awaitable[None]]], Sweep]:
    """Register ``async def fn(slot)`` as a periodic sweep."""

    def register(fn: Callable[[str], Awaitable[None]]) -> Sweep:
        if name in SWEEPS:
            raise ValueError(f"sweep {name!r} registered twice")
        SWEEPS[name] = Sweep(name, every, fn)
        return SWEEPS[name]

    return register


def slot_for(every: str, moment: datetime) -> str:
    """The slot a moment falls in, in local (Asia/Shanghai) time: a day is a local day."""
    return moment.astimezone(LOCAL).strftime(FORMATS[every])


@actor(queue_name="sweeps", max_retries=0)
async def run_sweep(name: str, slot: str) -> None:
    found = SWEEPS.get(name)
    if found is None:
        log.warning("unknown sweep %s", name)
        return
    if not await sweep_queries.claim(name, slot):
        return
    await found.run(slot)
    await sweep_queries.finish(name, slot)


def tick(now: datetime) -> list[tuple[str, str]]:
    """Send every sweep's current slot; returns what was sent."""
    sent = []
    for item in SWEEPS.values():
        slot = slot_for(item.every, now)
        run_sweep.send(item.name, slot)
        sent.append((item.name, slot))
    return sent
