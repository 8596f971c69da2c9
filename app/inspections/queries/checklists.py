"""Checklists and their versions (shared definitions owned by a division)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app import db
from app.inspections.tables import Checklist, ChecklistVersion
from app.tenancy.scope import TenantScope


def _visible(scope: TenantScope) -> list[int]:
    return sorted(scope.shared_ids | scope.read_ids)


async def checklists(
    scope: TenantScope, owner_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """The checklists this scope may read (its own division's, shared down the tree)."""
    visible = _visible(scope)
    if owner_ids is not None:
        visible = [i for i in visible if i in owner_ids]
    async with db.read(scope):
        return (
            await Checklist.select(
                *Checklist.all_columns(),
                Checklist.tenant.slug.as_alias("owner_slug"),
                Checklist.tenant.name.as_alias("owner_name"),
            )
            .where(Checklist.tenant.is_in(visible or [0]))
            .order_by(Checklist.code)
        )


async def checklist(scope: TenantScope, checklist_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Checklist.select(
                *Checklist.all_columns(), Checklist.tenant.slug.as_alias("owner_slug")
            )
            .where((Checklist.id == checklist_id) & Checklist.tenant.is_in(_visible(scope)))
            .first()
        )


async def checklist_by_code(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Checklist.select()
            .where(
                (Checklist.tenant == tenant_id)
                & (Checklist.code == code)
                & Checklist.tenant.is_in(_visible(scope))
            )
            .first()
        )


async def versions(scope: TenantScope, checklist_id: int) -> list[dict[str, Any]]:
    """Newest first."""
    async with db.read(scope):
        return (
            await ChecklistVersion.select(
                *ChecklistVersion.all_columns(),
                ChecklistVersion.created_by.display_name.as_alias("created_by_name"),
            )
            .where(
                (ChecklistVersion.checklist == checklist_id)
                & ChecklistVersion.tenant.is_in(_visible(scope))
            )
            .order_by(ChecklistVersion.number, ascending=False)
            .output(load_json=True)
        )


async def version(scope: TenantScope, version_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ChecklistVersion.select()
            .where(
                (ChecklistVersion.id == version_id) & ChecklistVersion.tenant.is_in(_visible(scope))
            )
            .output(load_json=True)
            .first()
        )


async def version_number(
    scope: TenantScope, checklist_id: int, number: int
) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ChecklistVersion.select()
            .where(
                (ChecklistVersion.checklist == checklist_id)
                & (ChecklistVersion.number == number)
                & ChecklistVersion.tenant.is_in(_visible(scope))
            )
            .output(load_json=True)
            .first()
        )


async def version_in_force(
    scope: TenantScope, checklist_id: int, day: date
) -> dict[str, Any] | None:
    """The newest version effective on ``day`` (None before the first one)."""
    async with db.read(scope):
        return (
            await ChecklistVersion.select()
            .where(
                (ChecklistVersion.checklist == checklist_id)
                & (ChecklistVersion.effective_from <= day)
                & ChecklistVersion.tenant.is_in(_visible(scope))
            )
            .order_by(ChecklistVersion.number, ascending=False)
            .output(load_json=True)
            .first()
        )


async def insert_checklist(
    scope: TenantScope, tenant_id: int, code: str, title: str, kind: str
) -> int:
    """Inside the caller's write transaction."""
    scope.check_write(tenant_id)
    rows = await Checklist.insert(
        Checklist(tenant=tenant_id, code=code, title=title, kind=kind, current_version=1)
    ).returning(Checklist.id)
    return int(rows[0]["id"])


async def insert_version(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction; also makes it the checklist's current version."""
    scope.check_write(tenant_id)
    rows = await ChecklistVersion.insert(ChecklistVersion(tenant=tenant_id, **values)).returning(
        ChecklistVersion.id
    )
    await Checklist.update({Checklist.current_version: values["number"]}).where(
        (Checklist.id == values["checklist"]) & (Checklist.tenant == tenant_id)
    )
    return int(rows[0]["id"])


async def update_checklist(
    scope: TenantScope, checklist_id: int, tenant_id: int, **values: Any
) -> None:
    """Inside the caller's write transaction."""
    scope.check_write(tenant_id)
    changes: dict[Any, Any] = dict(values)
    await Checklist.update(changes).where(
        (Checklist.id == checklist_id) & (Checklist.tenant == tenant_id)
    )
