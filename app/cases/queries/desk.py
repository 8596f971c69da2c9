"""What the window desk reads beyond the core: a case's files, and cases by owner (hand-over)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from app import db
from app.cases.tables import Case, CaseFile
from app.tenancy.scope import TenantScope

FILE_COLUMNS = (
    CaseFile.id,
    CaseFile.case,
    CaseFile.material,
    CaseFile.file,
    CaseFile.uploaded_at,
    CaseFile.uploaded_by.display_name.as_alias("uploaded_by_name"),
    CaseFile.file.filename.as_alias("filename"),
    CaseFile.file.size.as_alias("size"),
    CaseFile.file.content_type.as_alias("content_type"),
)


async def insert_files(
    scope: TenantScope,
    tenant_id: int,
    case_id: int,
    rows: Iterable[tuple[int | None, int]],
    uploaded_by: int | None,
    uploaded_at: datetime,
) -> None:
    """Attach stored files ``(material line id or None, file id)`` to a case (in a write)."""
    rows = list(rows)
    if not rows:
        return
    scope.check_write(tenant_id)
    await CaseFile.insert(
        *(
            CaseFile(
                tenant=tenant_id,
                case=case_id,
                material=material_id,
                file=file_id,
                uploaded_by=uploaded_by,
                uploaded_at=uploaded_at,
            )
            for material_id, file_id in rows
        )
    )


async def files(scope: TenantScope, case_id: int) -> list[dict[str, Any]]:
    """The files attached to one case, oldest first, with their display names."""
    async with db.read(scope):
        return (
            await CaseFile.select(*FILE_COLUMNS)
            .where((CaseFile.case == case_id) & CaseFile.tenant.is_in(list(scope.read_ids)))
            .order_by(CaseFile.uploaded_at)
            .order_by(CaseFile.id)
        )


async def case_file(scope: TenantScope, case_id: int, file_id: int) -> dict[str, Any] | None:
    """The attachment of stored file ``file_id`` to case ``case_id`` (None: not this case's)."""
    async with db.read(scope):
        return (
            await CaseFile.select(*FILE_COLUMNS)
            .where(
                (CaseFile.case == case_id)
                & (CaseFile.file == file_id)
                & CaseFile.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


async def cases_of_owner(
    scope: TenantScope, tenant_id: int, owner_id: int, states: Iterable[str]
) -> list[dict[str, Any]]:
    """A centre's cases whose first-contact owner is ``owner_id``, in ``states`` (oldest first)."""
    async with db.read(scope):
        return (
            await Case.select(
                Case.id,
                Case.number,
                Case.item_name,
                Case.applicant_kind,
                Case.applicant_name,
                Case.state,
                Case.urgent,
                Case.light,
                Case.promised_due_at,
                Case.registered_at,
            )
            .where(
                (Case.tenant == tenant_id)
                & Case.tenant.is_in(list(scope.read_ids))
                & (Case.owner == owner_id)
                & Case.state.is_in(list(states))
            )
            .order_by(Case.registered_at)
            .order_by(Case.id)
        )


async def owner_counts(scope: TenantScope, tenant_id: int, states: Iterable[str]) -> dict[int, int]:
    """Owner user id → how many of the centre's cases in ``states`` they own."""
    async with db.read(scope):
        rows = await Case.select(Case.owner).where(
            (Case.tenant == tenant_id)
            & Case.tenant.is_in(list(scope.read_ids))
            & Case.state.is_in(list(states))
        )
    out: dict[int, int] = {}
    for row in rows:
        out[row["owner_id"]] = out.get(row["owner_id"], 0) + 1
    return out
