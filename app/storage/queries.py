"""All database access for stored files."""

from __future__ import annotations

from typing import Any

from app import db
from app.storage.tables import StoredFile
from app.tenancy.scope import TenantScope


async def insert_file(
    scope: TenantScope,
    tenant_id: int,
    *,
    domain: str,
    storage_key: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    created_by: int | None,
) -> dict[str, Any]:
    """Insert one file row (inside the caller's ``db.write``); returns its id and created_at."""
    scope.check_casework(tenant_id)  # stored files are casework
    rows = await StoredFile.insert(
        StoredFile(
            tenant=tenant_id,
            domain=domain,
            storage_key=storage_key,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            created_by=created_by,
        )
    ).returning(StoredFile.id, StoredFile.created_at)
    return rows[0]


async def file_row(
    scope: TenantScope, file_id: int, tenant_id: int | None = None
) -> dict[str, Any] | None:
    """The file if the scope may read it (and it belongs to ``tenant_id``, when given)."""
    where = (StoredFile.id == file_id) & StoredFile.tenant.is_in(list(scope.read_ids) or [-1])
    if tenant_id is not None:
        where = where & (StoredFile.tenant == tenant_id)
    async with db.read(scope):
        return await StoredFile.select().where(where).first()


async def delete_file_row(scope: TenantScope, file_id: int) -> dict[str, Any] | None:
    """Delete the row (inside the caller's ``db.write``); returns it, or None if not writable."""
    where = (StoredFile.id == file_id) & StoredFile.tenant.is_in(list(scope.write_ids) or [-1])
    row = await StoredFile.select().where(where).first()
    if row is not None:
        await StoredFile.delete().where(StoredFile.id == row["id"])
    return row
