"""The yellow and red cases of a subtree (the stored light columns), red first."""

from __future__ import annotations

from typing import Any

from piccolo.query.methods.select import Count

from app import db
from app.cases.tables import Case
from app.cases.workflow import OPEN
from app.tenancy.scope import TenantScope

COLOURS = ("red", "yellow")
COLUMNS = (
    Case.id,
    Case.tenant,
    Case.number,
    Case.item_name,
    Case.state,
    Case.light,
    Case.legal_exceeded,
    Case.promised_due_at,
    Case.legal_due_at,
    Case.paused,
    Case.urgent,
    Case.owner.display_name.as_alias("owner_name"),
    Case.tenant.slug.as_alias("tenant_slug"),
    Case.tenant.name.as_alias("tenant_name"),
)


def _where(scope: TenantScope, tenant_ids: list[int], colour: str) -> Any:
    ids = sorted(t for t in set(tenant_ids) if t in scope.read_ids)
    colours = [colour] if colour in COLOURS else list(COLOURS)
    return (
        Case.tenant.is_in(ids or [0]) & Case.state.is_in(sorted(OPEN)) & Case.light.is_in(colours)
    )


async def lit_cases(
    scope: TenantScope, tenant_ids: list[int], colour: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Open cases showing ``colour`` (or either), red first, soonest due first."""
    async with db.read(scope):
        reds = (
            await Case.select(*COLUMNS)
            .where(_where(scope, tenant_ids, colour))
            .order_by(Case.light, ascending=True)  # 'red' < 'yellow'
            .order_by(Case.promised_due_at)
            .order_by(Case.id)
            .limit(limit)
            .offset(offset)
        )
    return reds


async def count_lit(scope: TenantScope, tenant_ids: list[int], colour: str) -> int:
    async with db.read(scope):
        rows = await Case.select(Count(alias="n")).where(_where(scope, tenant_ids, colour))
    return int(rows[0]["n"]) if rows else 0


async def lit_of_centre(
    scope: TenantScope, tenant_id: int, limit: int = 100
) -> list[dict[str, Any]]:
    """One centre's current red and yellow cases (the centre page)."""
    return await lit_cases(scope, [tenant_id], "", limit, 0)
