"""Catalogue sweeps: mandatory item versions apply themselves on their effective date."""

from __future__ import annotations

from datetime import date

from app.catalogue import adoption_updates
from app.jobs.sweeps import sweep


@sweep("catalogue.apply_mandatory", every="day")
async def apply_mandatory(slot: str) -> None:
    """Move adoptions to the newest mandatory version in force on the slot's local day."""
    await adoption_updates.apply_mandatory(date.fromisoformat(slot))
