"""The yellow margin N (黄灯提前量): the nearest setting up the tenant tree, and saving it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.supervision.tables import SupervisionSetting
from app.tenancy.scope import TenantScope

# The tenant and its ancestors (depth 0 = itself), joined to their settings: one query.
_NEAREST = (
    "WITH RECURSIVE up(id, parent_id, depth) AS ("
    " SELECT id, parent_id, 0 FROM tenant WHERE id = {}"
    " UNION ALL SELECT t.id, t.parent_id, up.depth + 1 FROM tenant t"
    " JOIN up ON t.id = up.parent_id WHERE up.depth < 16)"
    " SELECT s.yellow_days AS yellow_days, s.tenant_id AS tenant_id FROM up"
    " JOIN supervision_setting s ON s.tenant_id = up.id ORDER BY up.depth LIMIT 1"
)


async def nearest(scope: TenantScope, tenant_id: int) -> dict[str, Any] | None:
    """The setting nearest to ``tenant_id`` (itself, then its parent, …) or None."""
    async with db.read(scope):
        rows = await db.engine().run_querystring(QueryString(_NEAREST, tenant_id))
    return rows[0] if rows else None


async def setting(scope: TenantScope, tenant_id: int) -> dict[str, Any] | None:
    """The tenant's own setting (None when it has none)."""
    if tenant_id not in scope.read_ids | scope.shared_ids:
        return None
    async with db.read(scope):
        return (
            await SupervisionSetting.select(
                *SupervisionSetting.all_columns(),
                SupervisionSetting.updated_by.display_name.as_alias("updated_by_name"),
            )
            .where(SupervisionSetting.tenant == tenant_id)
            .first()
        )


async def save(
    scope: TenantScope,
    tenant_id: int,
    yellow_days: int,
    note: str,
    user_id: int | None,
    now: datetime,
) -> tuple[int, int | None]:
    """Insert or update the tenant's setting (inside the caller's write); returns (id, the
    previous N or None)."""
    scope.check_write(tenant_id)
    found = (
        await SupervisionSetting.select(SupervisionSetting.id, SupervisionSetting.yellow_days)
        .where(SupervisionSetting.tenant == tenant_id)
        .first()
    )
    if found is None:
        rows = await SupervisionSetting.insert(
            SupervisionSetting(
                tenant=tenant_id,
                yellow_days=yellow_days,
                note=note,
                updated_by=user_id,
                updated_at=now,
                lock_version=1,
            )
        ).returning(SupervisionSetting.id)
        return int(rows[0]["id"]), None
    await SupervisionSetting.update(
        {
            SupervisionSetting.yellow_days: yellow_days,
            SupervisionSetting.note: note,
            SupervisionSetting.updated_by: user_id,
            SupervisionSetting.updated_at: now,
            SupervisionSetting.lock_version: SupervisionSetting.lock_version + 1,
        }
    ).where(SupervisionSetting.id == found["id"])
    return int(found["id"]), int(found["yellow_days"])
