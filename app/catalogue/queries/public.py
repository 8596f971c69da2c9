"""What a centre's public pages read: its adopted items with their content and windows."""

from __future__ import annotations

import json
from typing import Any

from app import db
from app.catalogue.tables import TenantItem
from app.tenancy.scope import TenantScope

ITEM_COLUMNS = (
    TenantItem.id,
    TenantItem.tenant,
    TenantItem.template,
    TenantItem.version,
    TenantItem.window,
    TenantItem.promised_halves,
    TenantItem.local_note,
    TenantItem.template.code.as_alias("code"),
    TenantItem.template.tenant.as_alias("owner_id"),
    TenantItem.template.retired_at.as_alias("retired_at"),
    TenantItem.template._.department._.code.as_alias("department_code"),
    TenantItem.template._.department._.short_name.as_alias("department_name"),
    TenantItem.template._.department._.sort.as_alias("department_sort"),
    TenantItem.version.number.as_alias("version_number"),
    TenantItem.version.content.as_alias("content"),
    TenantItem.window.code.as_alias("window_code"),
    TenantItem.window.name.as_alias("window_name"),
    TenantItem.window.sort.as_alias("window_sort"),
)


def _prepared(row: dict[str, Any]) -> dict[str, Any]:
    """Content as a dict; ``promised`` = the limit the centre promises (its own if tighter)."""
    content = row["content"]
    if isinstance(content, str):
        content = json.loads(content)
    row["content"] = content
    template_limit = int(content.get("promised_halves", 0))
    local = row["promised_halves"]
    row["promised"] = min(local, template_limit) if local is not None else template_limit
    row["tightened"] = local is not None and local < template_limit
    return row


def _sort_key(row: dict[str, Any]) -> tuple[int, str]:
    return (row["department_sort"] or 0, row["code"])


async def adopted_items(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The active adoptions of one centre, by department and code (retired items included)."""
    async with db.read(scope):
        rows = await TenantItem.select(*ITEM_COLUMNS).where(
            (TenantItem.tenant == tenant_id)
            & TenantItem.tenant.is_in(list(scope.read_ids))
            & TenantItem.template.tenant.is_in(list(scope.shared_ids))
            & (TenantItem.active == True)  # noqa: E712 - Piccolo builds SQL from ==
        )
    return sorted((_prepared(r) for r in rows), key=_sort_key)


async def adopted_item(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any] | None:
    """One active adoption of a centre by the template's code (None if it has not adopted it)."""
    async with db.read(scope):
        row = (
            await TenantItem.select(*ITEM_COLUMNS)
            .where(
                (TenantItem.tenant == tenant_id)
                & TenantItem.tenant.is_in(list(scope.read_ids))
                & TenantItem.template.tenant.is_in(list(scope.shared_ids))
                & (TenantItem.template.code == code)
                & (TenantItem.active == True)  # noqa: E712 - Piccolo builds SQL from ==
            )
            .first()
        )
    return None if row is None else _prepared(row)


async def insert_adoption(
    scope: TenantScope,
    tenant_id: int,
    template_id: int,
    version_id: int,
    window_id: int | None = None,
    promised_halves: int | None = None,
    local_note: str = "",
) -> int:
    """A bare adoption row (test fixtures and demo data; the adoption service checks the rules)."""
    scope.check_write(tenant_id)
    async with db.write(scope):
        rows = await TenantItem.insert(
            TenantItem(
                tenant=tenant_id,
                template=template_id,
                version=version_id,
                window=window_id,
                promised_halves=promised_halves,
                local_note=local_note,
            )
        ).returning(TenantItem.id)
    return int(rows[0]["id"])
