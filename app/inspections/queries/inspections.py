"""Inspections, their photos and findings: all database access.

An inspection, its photos and findings carry the inspected centre's ``tenant_id``.  Reads
filter on the scope's ``read_ids``; the division's inspectors write under their
``supervise_ids`` (inspections are class ``casework``, photos and findings
``supervisory``), the centre's manager (acknowledging) under its ``write_ids``.  Writes run
inside the caller's ``db.write``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.inspections.tables import Draw, Finding, Inspection, InspectionPhoto
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound

COLUMNS = (
    *Inspection.all_columns(),
    Inspection.tenant.slug.as_alias("tenant_slug"),
    Inspection.tenant.name.as_alias("tenant_name"),
    Inspection.checklist.title.as_alias("checklist_title"),
    Inspection.checklist.code.as_alias("checklist_code"),
    Inspection.version.number.as_alias("version_number"),
    Inspection.lead.display_name.as_alias("lead_name"),
    Inspection.acknowledged_by.display_name.as_alias("acknowledged_by_name"),
    Inspection.submitted_by.display_name.as_alias("submitted_by_name"),
)
LIST_COLUMNS = (
    Inspection.id,
    Inspection.tenant.id.as_alias("tenant_id"),
    Inspection.tenant.slug.as_alias("tenant_slug"),
    Inspection.tenant.name.as_alias("tenant_name"),
    Inspection.checklist.title.as_alias("checklist_title"),
    Inspection.origin,
    Inspection.planned_on,
    Inspection.state,
    Inspection.score,
    Inspection.max_score,
    Inspection.percent,
    Inspection.submitted_at,
    Inspection.acknowledged_at,
    Inspection.lead.display_name.as_alias("lead_name"),
)


def _readable(scope: TenantScope) -> list[int]:
    return sorted(scope.read_ids) or [0]


def _may_supervise(scope: TenantScope, tenant_id: int) -> None:
    if tenant_id not in scope.supervise_ids:
        raise NotFound()


# --- inspections --------------------------------------------------------------------------


async def inspection(scope: TenantScope, inspection_id: int) -> dict[str, Any] | None:
    """One inspection the scope may read (None otherwise: the caller answers 404)."""
    async with db.read(scope):
        return (
            await Inspection.select(*COLUMNS)
            .where((Inspection.id == inspection_id) & Inspection.tenant.is_in(_readable(scope)))
            .output(load_json=True)
            .first()
        )


async def inspection_by_key(
    scope: TenantScope, tenant_id: int, client_key: str
) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Inspection.select(Inspection.id, Inspection.state)
            .where(
                (Inspection.tenant == tenant_id)
                & (Inspection.client_key == client_key)
                & Inspection.tenant.is_in(_readable(scope))
            )
            .first()
        )


def _filters(
    scope: TenantScope,
    tenant_ids: list[int],
    states: list[str] | None,
    month: tuple[date, date] | None,
) -> Any:
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    where: Any = Inspection.tenant.is_in(allowed or [0])
    if states:
        where &= Inspection.state.is_in(states)
    if month is not None:
        where &= (Inspection.planned_on >= month[0]) & (Inspection.planned_on < month[1])
    return where


async def inspections(
    scope: TenantScope,
    tenant_ids: list[int],
    *,
    states: list[str] | None = None,
    month: tuple[date, date] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Inspections of these centres, latest planned date first."""
    async with db.read(scope):
        return (
            await Inspection.select(*LIST_COLUMNS)
            .where(_filters(scope, tenant_ids, states, month))
            .order_by(Inspection.planned_on, ascending=False)
            .order_by(Inspection.id, ascending=False)
            .limit(limit)
            .offset(offset)
        )


async def count(
    scope: TenantScope,
    tenant_ids: list[int],
    *,
    states: list[str] | None = None,
    month: tuple[date, date] | None = None,
) -> int:
    async with db.read(scope):
        return int(await Inspection.count().where(_filters(scope, tenant_ids, states, month)))


async def insert_inspection(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (an inspector of the centre's division)."""
    _may_supervise(scope, tenant_id)
    rows = await Inspection.insert(Inspection(tenant=tenant_id, **values)).returning(Inspection.id)
    return int(rows[0]["id"])


async def update_inspection(
    scope: TenantScope,
    inspection_id: int,
    tenant_id: int,
    values: dict[str, Any],
    *,
    lock_version: int | None = None,
    states: list[str] | None = None,
) -> bool:
    """Inside the caller's write transaction; False when nothing matched (another save
    changed ``lock_version``, or the state moved on)."""
    if tenant_id not in scope.write_ids | scope.supervise_ids:
        raise NotFound()
    where: Any = (Inspection.id == inspection_id) & (Inspection.tenant == tenant_id)
    if lock_version is not None:
        where &= Inspection.lock_version == lock_version
    if states:
        where &= Inspection.state.is_in(states)
    changes = {getattr(Inspection, k): v for k, v in values.items()}
    rows = await Inspection.update(changes).where(where).returning(Inspection.id)
    return bool(rows)


# --- photos -------------------------------------------------------------------------------


PHOTO_COLUMNS = (
    InspectionPhoto.id,
    InspectionPhoto.tenant.id.as_alias("tenant_id"),
    InspectionPhoto.inspection.id.as_alias("inspection_id"),
    InspectionPhoto.item_key,
    InspectionPhoto.client_key,
    InspectionPhoto.file.id.as_alias("file_id"),
    InspectionPhoto.created_at,
)


async def photos(scope: TenantScope, inspection_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await InspectionPhoto.select(*PHOTO_COLUMNS)
            .where(
                (InspectionPhoto.inspection == inspection_id)
                & InspectionPhoto.tenant.is_in(_readable(scope))
            )
            .order_by(InspectionPhoto.id)
        )


async def photo(scope: TenantScope, inspection_id: int, photo_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await InspectionPhoto.select(*PHOTO_COLUMNS)
            .where(
                (InspectionPhoto.id == photo_id)
                & (InspectionPhoto.inspection == inspection_id)
                & InspectionPhoto.tenant.is_in(_readable(scope))
            )
            .first()
        )


async def photo_by_key(
    scope: TenantScope, tenant_id: int, client_key: str
) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await InspectionPhoto.select(*PHOTO_COLUMNS)
            .where(
                (InspectionPhoto.tenant == tenant_id)
                & (InspectionPhoto.client_key == client_key)
                & InspectionPhoto.tenant.is_in(_readable(scope))
            )
            .first()
        )


async def insert_photo(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction."""
    _may_supervise(scope, tenant_id)
    rows = await InspectionPhoto.insert(InspectionPhoto(tenant=tenant_id, **values)).returning(
        InspectionPhoto.id
    )
    return int(rows[0]["id"])


# --- findings -----------------------------------------------------------------------------


async def findings(scope: TenantScope, inspection_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await Finding.select(
                *Finding.all_columns(),
                Finding.rectification.state.as_alias("rectification_state"),
                Finding.rectification.due_at.as_alias("rectification_due_at"),
            )
            .where((Finding.inspection == inspection_id) & Finding.tenant.is_in(_readable(scope)))
            .order_by(Finding.position)
        )


async def count_findings(scope: TenantScope, inspection_id: int) -> int:
    async with db.read(scope):
        return int(
            await Finding.count().where(
                (Finding.inspection == inspection_id) & Finding.tenant.is_in(_readable(scope))
            )
        )


async def insert_finding(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction."""
    _may_supervise(scope, tenant_id)
    rows = await Finding.insert(Finding(tenant=tenant_id, **values)).returning(Finding.id)
    return int(rows[0]["id"])


async def link_finding(
    scope: TenantScope, tenant_id: int, finding_id: int, rectification_id: int
) -> None:
    """Inside the caller's write transaction."""
    _may_supervise(scope, tenant_id)
    await Finding.update({Finding.rectification: rectification_id}).where(
        (Finding.id == finding_id) & (Finding.tenant == tenant_id)
    )


# --- draws (the prefill of a drawn inspection) ---------------------------------------------


async def draw(scope: TenantScope, draw_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Draw.select(Draw.id, Draw.tenant, Draw.kind, Draw.month, Draw.result)
            .where((Draw.id == draw_id) & Draw.tenant.is_in(_readable(scope)))
            .output(load_json=True)
            .first()
        )


async def last_saved(scope: TenantScope, inspection_id: int) -> datetime | None:
    async with db.read(scope):
        row = (
            await Inspection.select(Inspection.updated_at)
            .where((Inspection.id == inspection_id) & Inspection.tenant.is_in(_readable(scope)))
            .first()
        )
    return row["updated_at"] if row else None
