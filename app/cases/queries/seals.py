"""A centre's approval seals and the seal ledger (用印台账)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import db
from app.cases.tables import Seal, SealUsage
from app.tenancy.scope import TenantScope


async def seals(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The seals of one centre, active first."""
    async with db.read(scope):
        rows = await Seal.select(*Seal.all_columns()).where(
            (Seal.tenant == tenant_id) & Seal.tenant.is_in(list(scope.read_ids))
        )
    return sorted(rows, key=lambda r: (not r["active"], r["name"]))


async def seal(scope: TenantScope, tenant_id: int, seal_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Seal.select(*Seal.all_columns())
            .where(
                (Seal.id == seal_id)
                & (Seal.tenant == tenant_id)
                & Seal.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


async def insert_seal(scope: TenantScope, tenant_id: int, name: str, keeper: str = "") -> int:
    scope.check_write(tenant_id)
    rows = await Seal.insert(Seal(tenant=tenant_id, name=name, keeper=keeper)).returning(Seal.id)
    return int(rows[0]["id"])


async def update_seal(scope: TenantScope, seal_id: int, **values: Any) -> None:
    await Seal.update({getattr(Seal, k): v for k, v in values.items()}).where(
        (Seal.id == seal_id) & Seal.tenant.is_in(list(scope.write_ids))
    )


async def seal_named(scope: TenantScope, tenant_id: int, name: str) -> dict[str, Any] | None:
    """The centre's seal of that exact name (names are unique per centre)."""
    async with db.read(scope):
        return (
            await Seal.select(*Seal.all_columns())
            .where(
                (Seal.tenant == tenant_id)
                & (Seal.name == name)
                & Seal.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


async def insert_usage(scope: TenantScope, **values: Any) -> int:
    scope.check_write(values["tenant"])
    rows = await SealUsage.insert(SealUsage(**values)).returning(SealUsage.id)
    return int(rows[0]["id"])


USAGE_COLUMNS = (
    *SealUsage.all_columns(),
    SealUsage.seal.name.as_alias("seal_name"),
    SealUsage.case.number.as_alias("case_number"),
    SealUsage.case._.tenant._.slug.as_alias("case_slug"),
    SealUsage.case.item_name.as_alias("item_name"),
    SealUsage.document.number.as_alias("document_number"),
    SealUsage.document.kind.as_alias("document_kind"),
)


def _usage_filter(
    scope: TenantScope,
    tenant_id: int,
    seal_id: int | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    where = (SealUsage.tenant == tenant_id) & SealUsage.tenant.is_in(list(scope.read_ids))
    if seal_id is not None:
        where &= SealUsage.seal == seal_id
    if since is not None:
        where &= SealUsage.used_at >= since
    if until is not None:
        where &= SealUsage.used_at < until
    return where


async def usage_count(
    scope: TenantScope,
    tenant_id: int,
    *,
    seal_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many ledger lines the same filter as :func:`usages` matches."""
    async with db.read(scope):
        return int(
            await SealUsage.count().where(_usage_filter(scope, tenant_id, seal_id, since, until))
        )


async def usages(
    scope: TenantScope,
    tenant_id: int,
    *,
    seal_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The ledger of one tenant's seals, newest first, optionally filtered."""
    where = _usage_filter(scope, tenant_id, seal_id, since, until)
    async with db.read(scope):
        query = (
            SealUsage.select(*USAGE_COLUMNS)
            .where(where)
            .order_by(SealUsage.used_at, ascending=False)
            .order_by(SealUsage.id, ascending=False)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return await query
