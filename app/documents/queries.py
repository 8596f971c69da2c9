"""All database access for a centre's documents (制度汇编, 授权书) and the gap report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.catalogue.tables import TenantItem
from app.documents.tables import Document
from app.tenancy.scope import TenantScope

COLUMNS = (
    *Document.all_columns(),
    Document.department.name.as_alias("department_name"),
    Document.department.short_name.as_alias("department_short"),
    Document.window.name.as_alias("window_name"),
    Document.file.filename.as_alias("filename"),
    Document.updated_by.display_name.as_alias("updated_by_name"),
)


def _ids(values: Any) -> list[int]:
    return list(values) or [-1]


async def documents(
    scope: TenantScope, tenant_id: int, *, retired: bool = False
) -> list[dict[str, Any]]:
    """A centre's documents (in force, or only the retired ones), by kind and title."""
    if tenant_id not in scope.read_ids:
        return []
    where: Any = Document.tenant == tenant_id
    where &= Document.retired_at.is_not_null() if retired else Document.retired_at.is_null()
    async with db.read(scope):
        return (
            await Document.select(*COLUMNS)
            .where(where)
            .order_by(Document.kind)
            .order_by(Document.title)
            .order_by(Document.id)
        )


async def document(scope: TenantScope, tenant_id: int, doc_id: int) -> dict[str, Any] | None:
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        return (
            await Document.select(*COLUMNS)
            .where((Document.id == doc_id) & (Document.tenant == tenant_id))
            .first()
        )


async def insert_document(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's ``db.write``."""
    scope.check_write(tenant_id)
    rows = await Document.insert(Document(tenant=tenant_id, **values)).returning(Document.id)
    return int(rows[0]["id"])


async def update_document(
    scope: TenantScope, tenant_id: int, doc_id: int, lock_version: int, **values: Any
) -> bool:
    """Inside the caller's ``db.write``; False when ``lock_version`` is stale (or retired)."""
    scope.check_write(tenant_id)
    rows = (
        await Document.update(
            {
                **{getattr(Document, k): v for k, v in values.items()},
                Document.lock_version: lock_version + 1,
            }
        )
        .where(
            (Document.id == doc_id)
            & (Document.tenant == tenant_id)
            & (Document.lock_version == lock_version)
            & Document.retired_at.is_null()
        )
        .returning(Document.id)
    )
    return bool(rows)


async def valid_letters(scope: TenantScope, tenant_ids: list[int], on: date) -> dict[int, set[int]]:
    """Tenant id → departments with an authorisation letter in force on ``on``."""
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    async with db.read(scope):
        rows = await Document.select(
            Document.tenant.as_alias("tenant"),
            Document.department.as_alias("department"),
            Document.valid_from,
            Document.valid_until,
        ).where(
            Document.tenant.is_in(_ids(allowed))
            & (Document.kind == "authorisation")
            & Document.retired_at.is_null()
            & Document.department.is_not_null()
        )
    out: dict[int, set[int]] = {}
    for r in rows:
        start, end = _day(r["valid_from"]), _day(r["valid_until"])
        if (start is None or start <= on) and (end is None or on <= end):
            out.setdefault(r["tenant"], set()).add(r["department"])
    return out


async def adopted_departments(
    scope: TenantScope, tenant_ids: list[int]
) -> dict[int, dict[int, dict[str, Any]]]:
    """Tenant id → department id → {name, items} over the centres' active adopted items
    (TenantItem → item template → department)."""
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    async with db.read(scope):
        rows = await TenantItem.select(
            TenantItem.tenant.as_alias("tenant"),
            TenantItem.template._.department.id.as_alias("department"),
            TenantItem.template._.department.name.as_alias("department_name"),
            TenantItem.template._.department.sort.as_alias("sort"),
        ).where(TenantItem.tenant.is_in(_ids(allowed)) & (TenantItem.active == True))  # noqa: E712
    out: dict[int, dict[int, dict[str, Any]]] = {}
    for r in rows:
        if r["department"] is None:
            continue
        entry = out.setdefault(r["tenant"], {}).setdefault(
            r["department"], {"name": r["department_name"], "sort": r["sort"] or 0, "items": 0}
        )
        entry["items"] += 1
    return out


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])
