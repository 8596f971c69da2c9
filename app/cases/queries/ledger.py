"""The rectification ledger (整改台账): one table for every source."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import db
from app.cases.tables import Rectification
from app.tenancy.scope import TenantScope

COLUMNS = (
    *Rectification.all_columns(),
    Rectification.owner.display_name.as_alias("owner_name"),
    Rectification.case.number.as_alias("case_number"),
    Rectification.tenant.slug.as_alias("tenant_slug"),
    Rectification.tenant.name.as_alias("tenant_name"),
)
CLOSED = "closed"


async def insert_rectification(scope: TenantScope, **values: Any) -> int:
    """Inside the caller's write transaction."""
    scope.check_write(values["tenant"])
    rows = await Rectification.insert(Rectification(**values)).returning(Rectification.id)
    return int(rows[0]["id"])


async def rectification(scope: TenantScope, rectification_id: int) -> dict[str, Any] | None:
    """One ledger item the scope may read (None otherwise: the caller answers 404)."""
    async with db.read(scope):
        return (
            await Rectification.select(*COLUMNS)
            .where(
                (Rectification.id == rectification_id)
                & Rectification.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


def _where(
    scope: TenantScope,
    tenant_ids: list[int],
    state: str,
    source: str,
    overdue: bool,
    now: datetime,
) -> Any:
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    where: Any = Rectification.tenant.is_in(allowed or [0])
    if state == "open" or overdue:
        where &= Rectification.state != CLOSED
    elif state == "closed":
        where &= Rectification.state == CLOSED
    if source:
        where &= Rectification.source == source
    if overdue:
        where &= Rectification.due_at < now
    return where


async def rectifications(
    scope: TenantScope,
    tenant_ids: list[int],
    *,
    state: str = "open",
    source: str = "",
    overdue: bool = False,
    now: datetime,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The ledger of these centres, soonest due first (closed ones: latest closed first)."""
    query = Rectification.select(*COLUMNS).where(
        _where(scope, tenant_ids, state, source, overdue, now)
    )
    if state == "closed":
        query = query.order_by(Rectification.closed_at, ascending=False)
    else:
        query = query.order_by(Rectification.due_at)
    async with db.read(scope):
        return await query.order_by(Rectification.id).limit(limit).offset(offset)


async def count(
    scope: TenantScope,
    tenant_ids: list[int],
    *,
    state: str = "open",
    source: str = "",
    overdue: bool = False,
    now: datetime,
) -> int:
    async with db.read(scope):
        return int(
            await Rectification.count().where(
                _where(scope, tenant_ids, state, source, overdue, now)
            )
        )


async def update_rectification(
    scope: TenantScope, rectification_id: int, now: datetime, **values: Any
) -> None:
    """Change a ledger item of the scope's own centre (inside the caller's write)."""
    values["updated_at"] = now
    await Rectification.update({getattr(Rectification, k): v for k, v in values.items()}).where(
        (Rectification.id == rectification_id) & Rectification.tenant.is_in(list(scope.write_ids))
    )
