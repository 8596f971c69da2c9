"""Supervision jobs (电子监察): the light-notice sweep.

Importing this module (it is in ``app.jobs.TASK_MODULES``) registers the sweep
``supervision.light_notices``: every minute, each new yellow or red light of a case is
notified once to its owner and the centre's managers, inside the centre's service hours
(:mod:`app.supervision.notices.sweep`).
"""

from __future__ import annotations

from app.jobs.sweeps import sweep
from app.supervision.notices.sweep import send_light_notices


@sweep("supervision.light_notices", every="minute")
async def light_notices(slot: str) -> None:
    """Notify the new yellow and red lights (the slot only names the run)."""
    await send_light_notices()
