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


def check_casework(scope: TenantScope, tenant_id: int) -> None:
    """Ledger rows are casework: written by the centre or a supervisor of its subtree."""
    scope.check_casework(tenant_id)


async def insert_rectification(scope: TenantScope, **values: Any) -> int:
    """Inside the caller's write transaction (the centre, or a supervisor opening 督办)."""
    check_casework(scope, values["tenant"])
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
    elif state == "answered":  # finding / 督办 answers waiting for the inspector
        where &= (Rectification.state == "fixed") & Rectification.source.is_in(
            ["finding", "supervision"]
        )
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


async def supervise_rectification(
    scope: TenantScope, rectification_id: int, now: datetime, **values: Any
) -> None:
    """A supervisor's change (verification) of an item of its subtree, inside its write."""
    values["updated_at"] = now
    await Rectification.update({getattr(Rectification, k): v for k, v in values.items()}).where(
        (Rectification.id == rectification_id)
        & Rectification.tenant.is_in(list(scope.supervise_ids) or [0])
    )


async def open_supervision(scope: TenantScope, case_id: int) -> dict[str, Any] | None:
    """The case's supervision (督办) item that is not closed yet, if any (inside a write)."""
    return (
        await Rectification.select(Rectification.id, Rectification.tenant)
        .where(
            (Rectification.case == case_id)
            & (Rectification.source == "supervision")
            & (Rectification.state != CLOSED)
            & Rectification.tenant.is_in(list(scope.read_ids) or [0])
        )
        .first()
    )
