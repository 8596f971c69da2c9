"""Database access for sweeps (not tenant-owned: sweeps run in an explicit system scope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.query.mixins import OnConflictAction

from app.jobs.tables import SweepRun


async def claim(sweep: str, slot: str) -> bool:
    """Insert the (sweep, slot) row; ``False`` when someone already has it."""
    rows = (
        await SweepRun.insert(SweepRun(sweep=sweep, slot=slot))
        .on_conflict(target=(SweepRun.sweep, SweepRun.slot), action=OnConflictAction.do_nothing)
        .returning(SweepRun.id)
    )
    return bool(rows)


async def finish(sweep: str, slot: str) -> None:
    await SweepRun.update({SweepRun.finished_at: datetime.now(UTC)}).where(
        (SweepRun.sweep == sweep) & (SweepRun.slot == slot)
    )


async def runs(sweep: str, limit: int = 20) -> list[dict[str, Any]]:
    return (
        await SweepRun.select()
        .where(SweepRun.sweep == sweep)
        .order_by(SweepRun.id, ascending=False)
        .limit(limit)
    )
