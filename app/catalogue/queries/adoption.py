"""A centre's adoptions of item templates (operational rows) and who adopts what."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.accounts.tables import WindowPost
from app.catalogue.tables import ItemVersion, TenantItem
from app.tenancy.scope import TenantScope

ADOPTION_COLUMNS = (
    TenantItem.id,
    TenantItem.tenant,
    TenantItem.template,
    TenantItem.version,
    TenantItem.window,
    TenantItem.promised_halves,
    TenantItem.local_note,
    TenantItem.active,
    TenantItem.adopted_at,
    TenantItem.updated_at,
    TenantItem.version.number.as_alias("version_number"),
    TenantItem.window.name.as_alias("window_name"),
    TenantItem.template.code.as_alias("code"),
)


async def adoptions(scope: TenantScope, tenant_id: int) -> dict[int, dict[str, Any]]:
    """Template id → the centre's adoption of it (active or not)."""
    async with db.read(scope):
        rows = await TenantItem.select(*ADOPTION_COLUMNS).where(
            (TenantItem.tenant == tenant_id) & TenantItem.tenant.is_in(list(scope.read_ids))
        )
    return {r["template_id"]: r for r in rows}


async def adoption(scope: TenantScope, tenant_id: int, template_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await TenantItem.select(*ADOPTION_COLUMNS)
            .where(
                (TenantItem.tenant == tenant_id)
                & (TenantItem.template == template_id)
                & TenantItem.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


async def insert_adoption(
    scope: TenantScope,
    tenant_id: int,
    template_id: int,
    version_id: int,
    window_id: int | None,
) -> int:
    scope.check_write(tenant_id)
    rows = await TenantItem.insert(
        TenantItem(tenant=tenant_id, template=template_id, version=version_id, window=window_id)
    ).returning(TenantItem.id)
    return rows[0]["id"]


async def update_adoption(
    scope: TenantScope, adoption_id: int, now: datetime, **values: Any
) -> None:
    values["updated_at"] = now
    await TenantItem.update({getattr(TenantItem, k): v for k, v in values.items()}).where(
        (TenantItem.id == adoption_id) & TenantItem.tenant.is_in(list(scope.write_ids))
    )


async def adopters(scope: TenantScope, template_id: int) -> list[dict[str, Any]]:
    """The active adoptions of one template in every centre the scope reads."""
    async with db.read(scope):
        return (
            await TenantItem.select(*ADOPTION_COLUMNS)
            .where(
                (TenantItem.template == template_id)
                & TenantItem.active.eq(True)
                & TenantItem.tenant.is_in(list(scope.read_ids))
            )
            .order_by(TenantItem.tenant)
        )


async def mandatory_in_force(scope: TenantScope, on: date) -> dict[int, dict[str, Any]]:
    """Template id → its newest mandatory version whose effective date has come."""
    async with db.read(scope):
        rows = (
            await ItemVersion.select()
            .where(
                ItemVersion.mandatory.eq(True)
                & (ItemVersion.effective_from <= on)
                & ItemVersion.tenant.is_in(list(scope.shared_ids))
            )
            .order_by(ItemVersion.number)
            .output(load_json=True)
        )
    return {r["template_id"]: r for r in rows}  # later numbers overwrite earlier ones


async def post_holders(scope: TenantScope, tenant_id: int) -> dict[int, dict[str, int]]:
    """Window id → {"A": user id, "B": user id} of one centre."""
    async with db.read(scope):
        rows = await WindowPost.select(WindowPost.window, WindowPost.post, WindowPost.user).where(
            (WindowPost.tenant == tenant_id) & WindowPost.tenant.is_in(list(scope.read_ids))
        )
    out: dict[int, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["window_id"], {})[r["post"]] = r["user_id"]
    return out


async def versions_by_id(scope: TenantScope, version_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Version id → version (the ones a centre's adoptions follow)."""
    if not version_ids:
        return {}
    async with db.read(scope):
        rows = (
            await ItemVersion.select()
            .where(
                ItemVersion.id.is_in(version_ids) & ItemVersion.tenant.is_in(list(scope.shared_ids))
            )
            .output(load_json=True)
        )
    return {r["id"]: r for r in rows}
