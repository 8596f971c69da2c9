"""The inspection-style ledger flow: history steps, evidence files, supervision (督办) and
the division's overview counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.methods.select import Count

from app import db
from app.cases.queries.ledger import COLUMNS, check_casework
from app.cases.tables import Case, Rectification, RectificationEvidence, RectificationStep
from app.tenancy.scope import TenantScope

ANSWERED = "fixed"  # the state of an answered item waiting for the inspector
FLOW_SOURCES = ("finding", "supervision")


# --- history ------------------------------------------------------------------------------


async def insert_step(
    scope: TenantScope,
    tenant_id: int,
    rectification_id: int,
    kind: str,
    note: str,
    actor_id: int | None,
    at: datetime,
) -> int:
    """One history step (inside the caller's write: the centre or its supervisor)."""
    check_casework(scope, tenant_id)
    rows = await RectificationStep.insert(
        RectificationStep(
            tenant=tenant_id,
            rectification=rectification_id,
            kind=kind,
            note=note,
            actor=actor_id,
            at=at,
        )
    ).returning(RectificationStep.id)
    return int(rows[0]["id"])


async def steps(scope: TenantScope, rectification_id: int) -> list[dict[str, Any]]:
    """The item's history, oldest first."""
    async with db.read(scope):
        return await (
            RectificationStep.select(
                *RectificationStep.all_columns(),
                RectificationStep.actor.display_name.as_alias("actor_name"),
            )
            .where(
                (RectificationStep.rectification == rectification_id)
                & RectificationStep.tenant.is_in(list(scope.read_ids) or [0])
            )
            .order_by(RectificationStep.at)
            .order_by(RectificationStep.id)
        )


async def opened_by(scope: TenantScope, rectification_ids: list[int]) -> dict[int, int | None]:
    """Who opened each item (the inspector of a finding, the supervisor of a 督办)."""
    if not rectification_ids:
        return {}
    async with db.read(scope):
        rows = await RectificationStep.select(
            RectificationStep.rectification, RectificationStep.actor
        ).where(
            RectificationStep.rectification.is_in(rectification_ids)
            & (RectificationStep.kind == "opened")
            & RectificationStep.tenant.is_in(list(scope.read_ids) or [0])
        )
    return {r["rectification_id"]: r["actor_id"] for r in rows}


# --- evidence -----------------------------------------------------------------------------


async def insert_evidence(
    scope: TenantScope,
    tenant_id: int,
    rectification_id: int,
    step_id: int | None,
    file_id: int,
    note: str,
    uploaded_by: int | None,
    at: datetime,
) -> int:
    check_casework(scope, tenant_id)
    rows = await RectificationEvidence.insert(
        RectificationEvidence(
            tenant=tenant_id,
            rectification=rectification_id,
            step=step_id,
            file=file_id,
            note=note,
            uploaded_by=uploaded_by,
            at=at,
        )
    ).returning(RectificationEvidence.id)
    return int(rows[0]["id"])


EVIDENCE_COLUMNS = (
    *RectificationEvidence.all_columns(),
    RectificationEvidence.file.filename.as_alias("filename"),
    RectificationEvidence.file.content_type.as_alias("content_type"),
    RectificationEvidence.file.size.as_alias("size"),
    RectificationEvidence.uploaded_by.display_name.as_alias("uploaded_by_name"),
)


async def evidence(scope: TenantScope, rectification_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return await (
            RectificationEvidence.select(*EVIDENCE_COLUMNS)
            .where(
                (RectificationEvidence.rectification == rectification_id)
                & RectificationEvidence.tenant.is_in(list(scope.read_ids) or [0])
            )
            .order_by(RectificationEvidence.id)
        )


async def evidence_row(
    scope: TenantScope, rectification_id: int, evidence_id: int
) -> dict[str, Any] | None:
    """One evidence file of this very item (None: the caller answers 404)."""
    async with db.read(scope):
        return (
            await RectificationEvidence.select(*EVIDENCE_COLUMNS)
            .where(
                (RectificationEvidence.id == evidence_id)
                & (RectificationEvidence.rectification == rectification_id)
                & RectificationEvidence.tenant.is_in(list(scope.read_ids) or [0])
            )
            .first()
        )


# --- supervision (督办) -------------------------------------------------------------------


async def lock_case(scope: TenantScope, case_id: int) -> None:
    """Serialise two supervisors pressing 督办 on one case (PostgreSQL; SQLite's immediate
    transaction already does).  Inside the caller's write."""
    if isinstance(db.engine(), PostgresEngine):
        await Case.raw("SELECT id FROM service_case WHERE id = {} FOR UPDATE", case_id)


# --- the division's overview --------------------------------------------------------------


async def overview_counts(
    scope: TenantScope, tenant_ids: list[int], now: datetime
) -> list[dict[str, Any]]:
    """Open items per centre, source, state and lateness: rows of (tenant, source, state,
    overdue, n)."""
    allowed = [t for t in tenant_ids if t in scope.read_ids] or [0]
    base = Rectification.tenant.is_in(allowed) & (Rectification.state != "closed")
    out: list[dict[str, Any]] = []
    async with db.read(scope):
        for overdue in (True, False):
            late = Rectification.due_at < now if overdue else Rectification.due_at >= now
            rows = (
                await Rectification.select(
                    Rectification.tenant,
                    Rectification.source,
                    Rectification.state,
                    Count(alias="n"),
                )
                .where(base & late)
                .group_by(Rectification.tenant, Rectification.source, Rectification.state)
            )
            out.extend({**r, "overdue": overdue} for r in rows)
    return out


async def awaiting_verification(
    scope: TenantScope, tenant_ids: list[int], limit: int = 200
) -> list[dict[str, Any]]:
    """Answered finding / 督办 items of these centres, waiting for the inspector."""
    allowed = [t for t in tenant_ids if t in scope.read_ids] or [0]
    async with db.read(scope):
        return await (
            Rectification.select(*COLUMNS)
            .where(
                Rectification.tenant.is_in(allowed)
                & (Rectification.state == ANSWERED)
                & Rectification.source.is_in(list(FLOW_SOURCES))
            )
            .order_by(Rectification.fixed_at)
            .order_by(Rectification.id)
            .limit(limit)
        )
