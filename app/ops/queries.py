"""What ``/metrics`` reads from the database at scrape time (system scope)."""

from __future__ import annotations

from typing import Any

from piccolo.query.methods.select import Count

from app import db
from app.cases.tables import Case
from app.cases.workflow import OPEN
from app.tenancy.scope import TenantScope


async def open_cases_by_light(scope: TenantScope) -> list[dict[str, Any]]:
    """Open cases counted per centre and stored light (``''``: an item without a clock)."""
    async with db.read(scope):
        return await (
            Case.select(Case.tenant, Case.light, Count(alias="n"))
            .where(
                Case.tenant.is_in(sorted(scope.read_ids) or [0]) & Case.state.is_in(sorted(OPEN))
            )
            .group_by(Case.tenant, Case.light)
        )
