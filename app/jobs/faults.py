"""Fault points for the crash tests: a job stops dead at a named spot until it is killed.

Production code marks the dangerous spot of a job (part of its effect done, the rest not)
with ``await faults.checkpoint("reports.export.stored")``.  Normally that is one test of a
module-level constant and returns at once.  When the environment variable
``BIANMIN_FAULT_PAUSE`` names the checkpoint (a comma-separated list; read once, at import),
the job touches ``$BIANMIN_FAULT_DIR/<name>`` so the test knows it got there, then waits
forever — without blocking the worker's event loop, so other jobs of the same worker can
reach their own checkpoints — until the test SIGKILLs the worker.  Test-only: never set
these variables in production.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger("bianmin.jobs")

PAUSE_AT = frozenset(p.strip() for p in os.environ.get("BIANMIN_FAULT_PAUSE", "").split(",") if p)
DIR = os.environ.get("BIANMIN_FAULT_DIR", "")


async def checkpoint(name: str) -> None:
    """Pause here for ever when ``BIANMIN_FAULT_PAUSE`` names this checkpoint."""
    if not PAUSE_AT or name not in PAUSE_AT:
        return
    reached(name)
    log.warning("fault checkpoint %s reached: pausing until killed", name)
    await asyncio.Event().wait()


def reached(name: str) -> None:
    """Leave ``$BIANMIN_FAULT_DIR/<name>`` (holding the process id) for the waiting test."""
    if DIR:
        path = Path(DIR) / name
        path.write_text(str(os.getpid()))
