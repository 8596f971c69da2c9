"""The append-only audit log."""

from __future__ import annotations

import json
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.accounts.tables import AuditLog
from app.tenancy.scope import TenantScope

# --- audit log (append-only) ----------------------------------------------------------


async def append_audit(
    tenant_id: int | None,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any],
    ip: str,
) -> None:
    # A plain INSERT without RETURNING: the row may be invisible to the writer under RLS.
    await db.engine().run_querystring(
        QueryString(
            "INSERT INTO audit_log (tenant_id, actor_id, actor_name, action, object_type,"
            " object_id, detail, ip, at, note) VALUES ({}, {}, {}, {}, {}, {}, {}, {},"
            " CURRENT_TIMESTAMP, '')",
            tenant_id,
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            json.dumps(detail, ensure_ascii=False),
            ip,
        )
    )


async def audit_entries(
    scope: TenantScope, tenant_id: int | None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    async with db.read(scope):
        where = (
            AuditLog.tenant.is_null()
            if tenant_id is None
            else (AuditLog.tenant == tenant_id) & AuditLog.tenant.is_in(list(scope.read_ids))
        )
        if before_id:
            where &= AuditLog.id < before_id
        return (
            await AuditLog.select(
                AuditLog.id,
                AuditLog.actor_name,
                AuditLog.action,
                AuditLog.object_type,
                AuditLog.object_id,
                AuditLog.detail,
                AuditLog.ip,
                AuditLog.at,
            )
            .where(where)
            .order_by(AuditLog.id, ascending=False)
            .limit(limit)
            .output(load_json=True)
        )
