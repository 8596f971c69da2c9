"""Reads for the .xlsx exports: a centre's adopted items with their versions and windows."""

from __future__ import annotations

import json
from typing import Any

from app import db
from app.catalogue.tables import TenantItem
from app.tenancy.scope import TenantScope


async def adopted_items(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """Every adoption of one centre (active or not), with the template's code, the adopted
    version's number and content, and the window; in department, then code order."""
    async with db.read(scope):
        rows = (
            await TenantItem.select(
                TenantItem.id,
                TenantItem.active,
                TenantItem.promised_halves,
                TenantItem.local_note,
                TenantItem.window,
                TenantItem.template.code.as_alias("code"),
                TenantItem.template.retired_at.as_alias("retired_at"),
                TenantItem.version.number.as_alias("version_number"),
                TenantItem.version.content.as_alias("content"),
                TenantItem.window.name.as_alias("window_name"),
            )
            .where((TenantItem.tenant == tenant_id) & TenantItem.tenant.is_in(list(scope.read_ids)))
            .order_by(TenantItem.template._.department._.sort)
            .order_by(TenantItem.template.code)
        )
    for row in rows:
        if isinstance(row["content"], str):
            row["content"] = json.loads(row["content"])
    return rows
