"""Periodic sweeps: registered by name, claimed per (sweep, slot), sent by the scheduler.

The scheduler sends every sweep's *current* slot each minute; the first message to claim a
slot runs it and every other one (a second scheduler, a redelivery, a re-run) finds the slot
taken.  A scheduler that was down catches up at its next tick.  Sweeps recompute from the
database, so a slot that failed half-way is made good by the next one.

A claim is a lease: the running sweep renews it every quarter of its ``lease``; when a
worker is killed mid-sweep the claim falls silent, and the first message for that slot
after the lease has run out (the broker's redelivery, or the scheduler re-sending an hour's
or a day's slot each minute) takes it over and runs the sweep again; so does a sweep that
raised.  Sweeps must therefore be idempotent (each claims per item or recomputes), which
they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from app.jobs import actor
from app.jobs import queries as sweep_queries
from app.jobs.leases import lease as lease_of

log = logging.getLogger("bianmin.sweeps")
LOCAL = ZoneInfo("Asia/Shanghai")
Every = Literal["minute", "hour", "day"]
FORMATS: dict[str, str] = {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}
LEASE_SECONDS = 180  # a killed worker's slot is taken over after this (renewed while running)


@dataclass(frozen=True)
class Sweep:
    name: str
    every: Every
    run: Callable[[str], Awaitable[None]]
    lease_seconds: float = LEASE_SECONDS

    @property
    def lease(self) -> timedelta:
        return lease_of(self.lease_seconds)


SWEEPS: dict[str, Sweep] = {}


def sweep(
    name: str, every: Every, lease_seconds: float = LEASE_SECONDS
) -> Callable[[Callable[[str], Awaitable[None]]], Sweep]:
    """Register ``async def fn(slot)`` as a periodic sweep."""

    def register(fn: Callable[[str], Awaitable[None]]) -> Sweep:
        if name in SWEEPS:
            raise ValueError(f"sweep {name!r} registered twice")
        SWEEPS[name] = Sweep(name, every, fn, lease_seconds)
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
    holder = uuid.uuid4().hex
    claimed = await sweep_queries.claim(name, slot, holder, found.lease)
    if claimed is None:
        return
    if claimed == "taken over":
        log.warning("sweep %s slot %s taken over from a silent holder", name, slot)
    began = time.monotonic()
    renewing = asyncio.create_task(_renew(found, slot, holder))
    try:
        await found.run(slot)
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    await sweep_queries.finish(name, slot)
    log.info("sweep %s ran slot %s in %.2f s", name, slot, time.monotonic() - began)


async def _renew(found: Sweep, slot: str, holder: str) -> None:
    """Renew the claim every quarter lease while the sweep runs (a failed renewal only logs:
    at worst a second run starts, and sweeps are idempotent)."""
    every = found.lease.total_seconds() / 4
    while True:
        await asyncio.sleep(every)
        try:
            if not await sweep_queries.renew(found.name, slot, holder):
                log.warning("sweep %s slot %s was taken over while running", found.name, slot)
                return
        except Exception:
            log.warning("could not renew sweep %s slot %s", found.name, slot, exc_info=True)


def tick(now: datetime) -> list[tuple[str, str]]:
    """Send every sweep's current slot; returns what was sent."""
    sent = []
    for item in SWEEPS.values():
        slot = slot_for(item.every, now)
        run_sweep.send(item.name, slot)
        sent.append((item.name, slot))
    return sent
