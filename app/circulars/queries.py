"""All database access for circulars (通报), their attachments and read receipts.

A centre reaches a circular only through its own receipt (see :mod:`app.circulars.tables`):
``received`` and ``received_one`` select from ``CircularRecipient`` joined to the circular,
so a centre that was not addressed gets nothing (→ 404).  The issuer reaches its own
circulars by ``tenant_id``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app import db
from app.circulars.tables import Circular, CircularAttachment, CircularRecipient
from app.inspections.tables import Finding, Inspection
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound

RECEIVED = (
    CircularRecipient.id.as_alias("receipt_id"),
    CircularRecipient.tenant.as_alias("recipient_id"),
    CircularRecipient.acknowledged_at,
    CircularRecipient.acknowledged_by.display_name.as_alias("acknowledged_by_name"),
    CircularRecipient.note,
    CircularRecipient.circular.id.as_alias("id"),
    CircularRecipient.circular.tenant.as_alias("tenant_id"),
    CircularRecipient.circular._.tenant._.name.as_alias("issuer_name"),
    CircularRecipient.circular.title.as_alias("title"),
    CircularRecipient.circular.body.as_alias("body"),
    CircularRecipient.circular.link.as_alias("link"),
    CircularRecipient.circular.linked.as_alias("linked"),
    CircularRecipient.circular.recipient_count.as_alias("recipient_count"),
    CircularRecipient.circular.issued_at.as_alias("issued_at"),
    CircularRecipient.circular._.issued_by._.display_name.as_alias("issued_by_name"),
)


def _ids(values: Any) -> list[int]:
    return list(values) or [-1]


def _json(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None and isinstance(row.get("linked"), str):
        row["linked"] = json.loads(row["linked"] or "{}")
    return row


# --- the issuer's side -----------------------------------------------------------------


async def insert_circular(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's ``db.write``: the circular itself (a shared row of the issuer)."""
    scope.check_write(tenant_id)
    rows = await Circular.insert(Circular(tenant=tenant_id, **values)).returning(Circular.id)
    return int(rows[0]["id"])


async def insert_attachment(
    scope: TenantScope, tenant_id: int, circular_id: int, position: int, file_id: int
) -> None:
    scope.check_write(tenant_id)
    await CircularAttachment.insert(
        CircularAttachment(tenant=tenant_id, circular=circular_id, position=position, file=file_id)
    )


async def insert_recipients(
    scope: TenantScope, issuer_id: int, circular_id: int, tenant_ids: list[int]
) -> None:
    """One receipt per recipient centre (casework rows: the issuer supervises them)."""
    for tenant_id in tenant_ids:
        if tenant_id not in scope.supervise_ids and tenant_id not in scope.write_ids:
            raise NotFound()
    if tenant_ids:
        await CircularRecipient.insert(
            *[
                CircularRecipient(tenant=t, circular=circular_id, issuer=issuer_id)
                for t in tenant_ids
            ]
        )


async def issued(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The circulars ``tenant_id`` issued, newest first, with how many receipts it reads
    and how many of them are acknowledged."""
    if tenant_id not in scope.shared_ids:
        return []
    async with db.read(scope):
        rows = (
            await Circular.select(
                Circular.id,
                Circular.title,
                Circular.link,
                Circular.recipient_count,
                Circular.issued_at,
                Circular.issued_by.display_name.as_alias("issued_by_name"),
            )
            .where(Circular.tenant == tenant_id)
            .order_by(Circular.issued_at, ascending=False)
            .order_by(Circular.id, ascending=False)
        )
        receipts = await CircularRecipient.select(
            CircularRecipient.circular.as_alias("circular"), CircularRecipient.acknowledged_at
        ).where(
            (CircularRecipient.issuer == tenant_id)
            & CircularRecipient.tenant.is_in(_ids(scope.read_ids))
        )
    read: dict[int, int] = {}
    for r in receipts:
        if r["acknowledged_at"] is not None:
            read[r["circular"]] = read.get(r["circular"], 0) + 1
    for row in rows:
        row["read"] = read.get(row["id"], 0)
    return rows


async def issued_one(scope: TenantScope, tenant_id: int, circular_id: int) -> dict[str, Any] | None:
    """A circular ``tenant_id`` issued (None if it did not issue it)."""
    if tenant_id not in scope.shared_ids:
        return None
    async with db.read(scope):
        row = (
            await Circular.select(
                *Circular.all_columns(),
                Circular.tenant.name.as_alias("issuer_name"),
                Circular.issued_by.display_name.as_alias("issued_by_name"),
            )
            .where((Circular.id == circular_id) & (Circular.tenant == tenant_id))
            .first()
        )
    return _json(row)


async def receipts(scope: TenantScope, circular_id: int) -> list[dict[str, Any]]:
    """Every receipt of a circular the scope reads, with the centre and who acknowledged."""
    async with db.read(scope):
        return (
            await CircularRecipient.select(
                CircularRecipient.id,
                CircularRecipient.tenant.as_alias("tenant"),
                CircularRecipient.tenant.slug.as_alias("tenant_slug"),
                CircularRecipient.tenant.name.as_alias("tenant_name"),
                CircularRecipient.acknowledged_at,
                CircularRecipient.acknowledged_by.display_name.as_alias("acknowledged_by_name"),
                CircularRecipient.note,
            )
            .where(
                (CircularRecipient.circular == circular_id)
                & CircularRecipient.tenant.is_in(_ids(scope.read_ids))
            )
            .order_by(CircularRecipient.tenant.slug)
        )


# --- the recipient's side --------------------------------------------------------------


async def received(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The circulars addressed to ``tenant_id``: unread first, then newest first."""
    if tenant_id not in scope.read_ids:
        return []
    async with db.read(scope):
        rows = await CircularRecipient.select(*RECEIVED).where(
            CircularRecipient.tenant == tenant_id
        )
    rows.sort(key=lambda r: r["id"], reverse=True)
    rows.sort(key=lambda r: r["acknowledged_at"] is not None)
    return rows


async def received_one(
    scope: TenantScope, tenant_id: int, circular_id: int
) -> dict[str, Any] | None:
    """The circular through ``tenant_id``'s own receipt (None: not addressed to it)."""
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        row = (
            await CircularRecipient.select(*RECEIVED)
            .where(
                (CircularRecipient.tenant == tenant_id)
                & (CircularRecipient.circular == circular_id)
            )
            .first()
        )
    return _json(row)


async def unread_count(scope: TenantScope, tenant_id: int) -> int:
    if tenant_id not in scope.read_ids:
        return 0
    async with db.read(scope):
        return await CircularRecipient.count().where(
            (CircularRecipient.tenant == tenant_id) & CircularRecipient.acknowledged_at.is_null()
        )


async def acknowledge(
    scope: TenantScope,
    tenant_id: int,
    circular_id: int,
    user_id: int | None,
    note: str,
    now: datetime,
) -> bool:
    """Inside the caller's ``db.write``: mark the receipt read, once.  False if it already was."""
    scope.check_write(tenant_id)
    rows = (
        await CircularRecipient.update(
            {
                CircularRecipient.acknowledged_at: now,
                CircularRecipient.acknowledged_by: user_id,
                CircularRecipient.note: note,
            }
        )
        .where(
            (CircularRecipient.tenant == tenant_id)
            & (CircularRecipient.circular == circular_id)
            & CircularRecipient.acknowledged_at.is_null()
        )
        .returning(CircularRecipient.id)
    )
    return bool(rows)


# --- attachments -------------------------------------------------------------------------


async def attachments(scope: TenantScope, issuer_id: int, circular_id: int) -> list[dict[str, Any]]:
    """The files of a circular (the caller has checked issuer or recipient first)."""
    async with db.read(scope):
        return (
            await CircularAttachment.select(
                CircularAttachment.id,
                CircularAttachment.file.as_alias("file"),
                CircularAttachment.file.filename.as_alias("filename"),
                CircularAttachment.file.size.as_alias("size"),
            )
            .where(
                (CircularAttachment.circular == circular_id)
                & (CircularAttachment.tenant == issuer_id)
            )
            .order_by(CircularAttachment.position)
        )


async def attachment(
    scope: TenantScope, issuer_id: int, circular_id: int, attachment_id: int
) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await CircularAttachment.select(
                CircularAttachment.id, CircularAttachment.file.as_alias("file")
            )
            .where(
                (CircularAttachment.id == attachment_id)
                & (CircularAttachment.circular == circular_id)
                & (CircularAttachment.tenant == issuer_id)
            )
            .first()
        )


# --- linked inspection results ------------------------------------------------------------


async def inspection_result(scope: TenantScope, inspection_id: int) -> dict[str, Any] | None:
    """A submitted (or acknowledged) inspection of the scope's subtree, with its centre and
    how many findings it has; None otherwise."""
    allowed = _ids(scope.supervise_ids or scope.read_ids)
    async with db.read(scope):
        row = (
            await Inspection.select(
                Inspection.id,
                Inspection.tenant.as_alias("tenant"),
                Inspection.tenant.name.as_alias("tenant_name"),
                Inspection.tenant.slug.as_alias("tenant_slug"),
                Inspection.checklist.title.as_alias("checklist_title"),
                Inspection.planned_on,
                Inspection.state,
                Inspection.score,
                Inspection.max_score,
                Inspection.percent,
                Inspection.submitted_at,
            )
            .where(
                (Inspection.id == inspection_id)
                & Inspection.tenant.is_in(allowed)
                & Inspection.state.is_in(["submitted", "acknowledged"])
            )
            .first()
        )
        if row is None:
            return None
        row["findings"] = await Finding.count().where(
            (Finding.inspection == inspection_id) & (Finding.tenant == row["tenant"])
        )
    return row


async def submitted_between(scope: TenantScope, start: Any, end: Any) -> list[dict[str, Any]]:
    """Submitted (or acknowledged) inspections of the scope's subtree planned in
    [start, end), latest first (the demo links the April results)."""
    async with db.read(scope):
        return (
            await Inspection.select(Inspection.id, Inspection.tenant.slug.as_alias("slug"))
            .where(
                Inspection.tenant.is_in(_ids(scope.supervise_ids))
                & Inspection.state.is_in(["submitted", "acknowledged"])
                & (Inspection.planned_on >= start)
                & (Inspection.planned_on < end)
            )
            .order_by(Inspection.planned_on, ascending=False)
        )
