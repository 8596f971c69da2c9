"""Item templates and their versions (shared rows owned by the division)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.catalogue.tables import ItemTemplate, ItemVersion
from app.tenancy.scope import TenantScope

TEMPLATE_COLUMNS = (
    ItemTemplate.id,
    ItemTemplate.tenant,
    ItemTemplate.code,
    ItemTemplate.department,
    ItemTemplate.current_version,
    ItemTemplate.created_at,
    ItemTemplate.retired_at,
    ItemTemplate.retired_note,
    ItemTemplate.department.code.as_alias("department_code"),
    ItemTemplate.department.short_name.as_alias("department_name"),
)


async def templates(scope: TenantScope, owner_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Every template the scope may read (its own and its ancestors' catalogues)."""
    ids = list(scope.shared_ids if owner_ids is None else set(owner_ids) & scope.shared_ids)
    async with db.read(scope):
        return (
            await ItemTemplate.select(*TEMPLATE_COLUMNS)
            .where(ItemTemplate.tenant.is_in(ids))
            .order_by(ItemTemplate.department.sort)
            .order_by(ItemTemplate.code)
        )


async def template(scope: TenantScope, template_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ItemTemplate.select(*TEMPLATE_COLUMNS)
            .where(
                (ItemTemplate.id == template_id) & ItemTemplate.tenant.is_in(list(scope.shared_ids))
            )
            .first()
        )


async def template_by_code(scope: TenantScope, code: str) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ItemTemplate.select(*TEMPLATE_COLUMNS)
            .where((ItemTemplate.code == code) & ItemTemplate.tenant.is_in(list(scope.shared_ids)))
            .first()
        )


async def versions(scope: TenantScope, template_id: int) -> list[dict[str, Any]]:
    """All versions of a template, newest first."""
    async with db.read(scope):
        return (
            await ItemVersion.select()
            .where(
                (ItemVersion.template == template_id)
                & ItemVersion.tenant.is_in(list(scope.shared_ids))
            )
            .order_by(ItemVersion.number, ascending=False)
            .output(load_json=True)
        )


async def version(scope: TenantScope, version_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ItemVersion.select()
            .where(
                (ItemVersion.id == version_id) & ItemVersion.tenant.is_in(list(scope.shared_ids))
            )
            .first()
            .output(load_json=True)
        )


async def latest_versions(scope: TenantScope, template_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Template id → its newest version (one query for a whole list)."""
    if not template_ids:
        return {}
    async with db.read(scope):
        rows = (
            await ItemVersion.select()
            .where(
                ItemVersion.template.is_in(template_ids)
                & ItemVersion.tenant.is_in(list(scope.shared_ids))
            )
            .order_by(ItemVersion.number)
            .output(load_json=True)
        )
    return {r["template_id"]: r for r in rows}  # later numbers overwrite earlier ones


async def versions_in_force(
    scope: TenantScope, template_ids: list[int], on: date
) -> dict[int, dict[str, Any]]:
    """Template id → the newest version whose effective date has come."""
    if not template_ids:
        return {}
    async with db.read(scope):
        rows = (
            await ItemVersion.select()
            .where(
                ItemVersion.template.is_in(template_ids)
                & ItemVersion.tenant.is_in(list(scope.shared_ids))
                & (ItemVersion.effective_from <= on)
            )
            .order_by(ItemVersion.number)
            .output(load_json=True)
        )
    return {r["template_id"]: r for r in rows}


async def insert_template(scope: TenantScope, owner_id: int, code: str, department_id: int) -> int:
    scope.check_write(owner_id)
    rows = await ItemTemplate.insert(
        ItemTemplate(tenant=owner_id, code=code, department=department_id, current_version=1)
    ).returning(ItemTemplate.id)
    return rows[0]["id"]


async def insert_version(
    scope: TenantScope,
    owner_id: int,
    template_id: int,
    number: int,
    content: dict[str, Any],
    effective_from: date,
    mandatory: bool,
    note: str,
    user_id: int | None,
) -> int:
    scope.check_write(owner_id)
    rows = await ItemVersion.insert(
        ItemVersion(
            tenant=owner_id,
            template=template_id,
            number=number,
            content=content,
            effective_from=effective_from,
            mandatory=mandatory,
            change_note=note,
            created_by=user_id,
        )
    ).returning(ItemVersion.id)
    return rows[0]["id"]


async def update_template(scope: TenantScope, template_id: int, **values: Any) -> None:
    await ItemTemplate.update({getattr(ItemTemplate, k): v for k, v in values.items()}).where(
        (ItemTemplate.id == template_id) & ItemTemplate.tenant.is_in(list(scope.write_ids))
    )


async def set_retired(
    scope: TenantScope, template_id: int, when: datetime | None, note: str
) -> None:
    await update_template(scope, template_id, retired_at=when, retired_note=note)
