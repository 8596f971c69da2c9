"""Export jobs: requested by a user at their tenant, built by the ``reports.export`` actor.

A job is the requester's own: the page and the file answer only its own tenant and its own
user (a colleague at the same centre may see less than the requester did)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import db
from app.reports.tables import ExportJob
from app.tenancy.scope import TenantScope

COLUMNS = (
    *ExportJob.all_columns(),
    ExportJob.tenant.slug.as_alias("tenant_slug"),
    ExportJob.requested_by.display_name.as_alias("requested_by_name"),
)


async def insert_job(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (the requester at its own tenant)."""
    scope.check_write(tenant_id)
    rows = await ExportJob.insert(ExportJob(tenant=tenant_id, **values)).returning(ExportJob.id)
    return int(rows[0]["id"])


async def job(scope: TenantScope, job_id: int, tenant_id: int) -> dict[str, Any] | None:
    """The job if it belongs to ``tenant_id`` (readable by the scope) and, for a user's
    scope, was requested by that user; None answers 404."""
    if tenant_id not in scope.read_ids:
        return None
    where = (ExportJob.id == job_id) & (ExportJob.tenant == tenant_id)
    if not scope.system:
        where &= ExportJob.requested_by == scope.user_id
    async with db.read(scope):
        return await ExportJob.select(*COLUMNS).where(where).output(load_json=True).first()


async def job_by_id(scope: TenantScope, job_id: int) -> dict[str, Any] | None:
    """Any readable job by id (the actor, under a system scope, to find whose it is)."""
    async with db.read(scope):
        return (
            await ExportJob.select(*COLUMNS)
            .where((ExportJob.id == job_id) & ExportJob.tenant.is_in(sorted(scope.read_ids)))
            .output(load_json=True)
            .first()
        )


async def update_job(scope: TenantScope, row: dict[str, Any], **values: Any) -> None:
    """Change a job's status or progress (in its own short write)."""
    tenant_id = row["tenant_id"]
    async with db.write(scope):
        scope.check_write(tenant_id)
        await ExportJob.update({getattr(ExportJob, k): v for k, v in values.items()}).where(
            (ExportJob.id == row["id"]) & (ExportJob.tenant == tenant_id)
        )


async def start_job(scope: TenantScope, row: dict[str, Any]) -> bool:
    """Mark the job running (progress reset); False when it is done already (a retry or a
    second delivery of a finished job builds nothing)."""
    tenant_id = row["tenant_id"]
    async with db.write(scope):
        scope.check_write(tenant_id)
        current = (
            await ExportJob.select(ExportJob.status, ExportJob.file)
            .where((ExportJob.id == row["id"]) & (ExportJob.tenant == tenant_id))
            .first()
        )
        if current is None or current["status"] == "done" or current["file_id"] is not None:
            return False
        await ExportJob.update(
            {ExportJob.status: "running", ExportJob.done: 0, ExportJob.error: ""}
        ).where((ExportJob.id == row["id"]) & (ExportJob.tenant == tenant_id))
    return True


async def finish_job(
    scope: TenantScope,
    row: dict[str, Any],
    *,
    file_id: int,
    filename: str,
    total: int,
    now: datetime,
) -> bool:
    """Attach the file and mark the job done, unless another run got there first (then the
    caller deletes its own file: a job never keeps two)."""
    tenant_id = row["tenant_id"]
    async with db.write(scope):
        scope.check_write(tenant_id)
        # One conditional UPDATE: a concurrent run's UPDATE waits for this row and then finds
        # the file set (a SELECT first would let both see it empty on PostgreSQL).
        won = (
            await ExportJob.update(
                {
                    ExportJob.status: "done",
                    ExportJob.file: file_id,
                    ExportJob.filename: filename[:200],
                    ExportJob.done: total,
                    ExportJob.total: total,
                    ExportJob.error: "",
                    ExportJob.finished_at: now,
                }
            )
            .where(
                (ExportJob.id == row["id"])
                & (ExportJob.tenant == tenant_id)
                & ExportJob.file.is_null()
            )
            .returning(ExportJob.id)
        )
    return bool(won)
