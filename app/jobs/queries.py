"""Database access for sweeps (not tenant-owned: sweeps run in an explicit system scope).

A claim on a (sweep, slot) is a lease: its ``holder`` renews ``claimed_at`` while the sweep
runs; once an unfinished claim has been silent for longer than the lease, the next message
for that slot takes it over (one atomic UPDATE, so exactly one taker wins).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from piccolo.query.mixins import OnConflictAction

from app.jobs.tables import SweepRun

Claim = Literal["claimed", "taken over"]


def _now() -> datetime:
    return datetime.now(UTC)


async def claim(sweep: str, slot: str, holder: str, lease: timedelta) -> Claim | None:
    """Take the (sweep, slot): a new row, or an unfinished one whose holder has been silent
    for longer than ``lease``; ``None`` when it is finished or held by a live holder."""
    rows = (
        await SweepRun.insert(SweepRun(sweep=sweep, slot=slot, holder=holder))
        .on_conflict(target=(SweepRun.sweep, SweepRun.slot), action=OnConflictAction.do_nothing)
        .returning(SweepRun.id)
    )
    if rows:
        return "claimed"
    now = _now()
    rows = (
        await SweepRun.update(
            {
                SweepRun.holder: holder,
                SweepRun.claimed_at: now,
                SweepRun.attempts: SweepRun.attempts + 1,
            }
        )
        .where(
            (SweepRun.sweep == sweep)
            & (SweepRun.slot == slot)
            & SweepRun.finished_at.is_null()
            & (SweepRun.claimed_at < now - lease)
        )
        .returning(SweepRun.id)
    )
    return "taken over" if rows else None


async def renew(sweep: str, slot: str, holder: str) -> bool:
    """Keep the claim alive; ``False`` when another holder has taken it over."""
    rows = (
        await SweepRun.update({SweepRun.claimed_at: _now()})
        .where(
            (SweepRun.sweep == sweep)
            & (SweepRun.slot == slot)
            & (SweepRun.holder == holder)
            & SweepRun.finished_at.is_null()
        )
        .returning(SweepRun.id)
    )
    return bool(rows)


async def finish(sweep: str, slot: str) -> None:
    await SweepRun.update({SweepRun.finished_at: _now()}).where(
        (SweepRun.sweep == sweep) & (SweepRun.slot == slot) & SweepRun.finished_at.is_null()
    )


async def runs(sweep: str, limit: int = 20) -> list[dict[str, Any]]:
    return (
        await SweepRun.select()
        .where(SweepRun.sweep == sweep)
        .order_by(SweepRun.id, ascending=False)
        .limit(limit)
    )
