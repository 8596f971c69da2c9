"""Leases: how long a claim on work may stay silent before another job may take it over.

A job that claims work (a sweep's slot, a channel message being sent) records when it did;
if its worker is killed the claim stays behind, and a later job takes it over once the
lease has run out.  A live holder keeps its claim by renewing it (sweeps) or by finishing
well within the lease (a webhook POST has a 10 s timeout).

``BIANMIN_LEASE_SECONDS`` (test-only) shortens every lease, so the crash tests need not
wait minutes.
"""

from __future__ import annotations

import os
from datetime import timedelta

_OVERRIDE = os.environ.get("BIANMIN_LEASE_SECONDS", "")


def lease(seconds: float) -> timedelta:
    """``seconds``, unless the test-only override is set."""
    return timedelta(seconds=float(_OVERRIDE) if _OVERRIDE else seconds)
