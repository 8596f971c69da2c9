"""Published editions of a division's power list (权力清单): shared rows owned by the division."""

from __future__ import annotations

from datetime import date
from typing import Any

from app import db
from app.catalogue.tables import PowerListEdition
from app.tenancy.scope import TenantScope

SUMMARY = (
    PowerListEdition.id,
    PowerListEdition.number,
    PowerListEdition.published_on,
    PowerListEdition.title,
    PowerListEdition.created_at,
)


async def editions(scope: TenantScope, division_id: int) -> list[dict[str, Any]]:
    """Every edition of the division's list (without entries), newest first."""
    if division_id not in scope.shared_ids:
        return []
    async with db.read(scope):
        return (
            await PowerListEdition.select(*SUMMARY)
            .where(
                (PowerListEdition.tenant == division_id)
                & PowerListEdition.tenant.is_in(list(scope.shared_ids))
            )
            .order_by(PowerListEdition.number, ascending=False)
        )


async def edition(scope: TenantScope, division_id: int, number: int) -> dict[str, Any] | None:
    """One edition with its entries (None when the division has no such number)."""
    if division_id not in scope.shared_ids:
        return None
    async with db.read(scope):
        return (
            await PowerListEdition.select()
            .where(
                (PowerListEdition.tenant == division_id)
                & PowerListEdition.tenant.is_in(list(scope.shared_ids))
                & (PowerListEdition.number == number)
            )
            .first()
            .output(load_json=True)
        )


async def latest(scope: TenantScope, division_id: int) -> dict[str, Any] | None:
    """The newest edition with its entries."""
    if division_id not in scope.shared_ids:
        return None
    async with db.read(scope):
        return (
            await PowerListEdition.select()
            .where(
                (PowerListEdition.tenant == division_id)
                & PowerListEdition.tenant.is_in(list(scope.shared_ids))
            )
            .order_by(PowerListEdition.number, ascending=False)
            .first()
            .output(load_json=True)
        )


async def insert_edition(
    scope: TenantScope,
    division_id: int,
    number: int,
    published_on: date,
    title: str,
    entries: list[dict[str, Any]],
    user_id: int | None,
) -> int:
    scope.check_write(division_id)
    rows = await PowerListEdition.insert(
        PowerListEdition(
            tenant=division_id,
            number=number,
            published_on=published_on,
            title=title,
            entries=entries,
            published_by=user_id,
        )
    ).returning(PowerListEdition.id)
    return int(rows[0]["id"])
