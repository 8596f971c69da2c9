"""Grouped reads behind :mod:`app.supervision.figures`: one query per kind of figure for
many centres at once (never one per centre)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.query.methods.select import Count

from app import db
from app.cases.tables import Case, CaseMonthStat, Rectification
from app.cases.workflow import OPEN
from app.inspections.tables import Inspection
from app.reports.tables import ReportPeriod, Submission
from app.tenancy.scope import TenantScope

CLOSED = "closed"
INSPECTION_DONE = ("submitted", "acknowledged")


def allowed(scope: TenantScope, tenant_ids: list[int]) -> list[int]:
    return sorted({t for t in tenant_ids if t in scope.read_ids})


async def light_counts(scope: TenantScope, tenant_ids: list[int]) -> list[dict[str, Any]]:
    """Open cases coloured yellow/red or past the legal limit, counted per centre, light and
    legal flag (the stored columns)."""
    ids = allowed(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return (
            await Case.select(Case.tenant, Case.light, Case.legal_exceeded, Count(alias="n"))
            .where(
                Case.tenant.is_in(ids)
                & Case.state.is_in(sorted(OPEN))
                & (
                    Case.light.is_in(["yellow", "red"]) | (Case.legal_exceeded == True)  # noqa: E712 - Piccolo builds SQL from ==
                )
            )
            .group_by(Case.tenant, Case.light, Case.legal_exceeded)
        )


async def month_rows(
    scope: TenantScope, tenant_ids: list[int], first: int, last: int
) -> list[dict[str, Any]]:
    """Stored monthly case figures (app.metrics) of the centres."""
    ids = allowed(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await CaseMonthStat.select(*CaseMonthStat.all_columns()).where(
            CaseMonthStat.tenant.is_in(ids)
            & (CaseMonthStat.month >= first)
            & (CaseMonthStat.month <= last)
        )


async def rectification_counts(
    scope: TenantScope, tenant_ids: list[int], now: datetime
) -> list[dict[str, Any]]:
    """Open ledger items per centre, and how many of them are past their due time."""
    ids = allowed(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        open_rows = (
            await Rectification.select(Rectification.tenant, Count(alias="n"))
            .where(Rectification.tenant.is_in(ids) & (Rectification.state != CLOSED))
            .group_by(Rectification.tenant)
        )
        late_rows = (
            await Rectification.select(Rectification.tenant, Count(alias="n"))
            .where(
                Rectification.tenant.is_in(ids)
                & (Rectification.state != CLOSED)
                & (Rectification.due_at < now)
            )
            .group_by(Rectification.tenant)
        )
    late = {int(r["tenant_id"]): int(r["n"]) for r in late_rows}
    return [
        {
            "tenant_id": int(r["tenant_id"]),
            "open": int(r["n"]),
            "overdue": late.get(int(r["tenant_id"]), 0),
        }
        for r in open_rows
    ]


async def submissions(
    scope: TenantScope, tenant_ids: list[int], month: int
) -> list[dict[str, Any]]:
    """The centres' monthly-report submissions for ``month`` (any form)."""
    ids = allowed(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await Submission.select(
            Submission.tenant, Submission.form, Submission.status, Submission.on_time
        ).where(Submission.tenant.is_in(ids) & (Submission.month == month))


async def periods(scope: TenantScope, owner_ids: list[int], month: int) -> list[dict[str, Any]]:
    """Report periods of ``month`` opened by the given (division) tenants."""
    ids = sorted(set(owner_ids))
    if not ids:
        return []
    async with db.read(scope):
        return await ReportPeriod.select(
            ReportPeriod.id,
            ReportPeriod.tenant,
            ReportPeriod.form,
            ReportPeriod.due_on,
            ReportPeriod.version.definition.as_alias("definition"),
        ).where(ReportPeriod.tenant.is_in(ids) & (ReportPeriod.month == month))


async def inspections(
    scope: TenantScope, tenant_ids: list[int], until: datetime
) -> list[dict[str, Any]]:
    """Submitted (or acknowledged) inspections of the centres up to ``until``, newest first
    per centre (the caller keeps the first of each)."""
    ids = allowed(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return (
            await Inspection.select(
                Inspection.tenant, Inspection.percent, Inspection.submitted_at, Inspection.id
            )
            .where(
                Inspection.tenant.is_in(ids)
                & Inspection.state.is_in(list(INSPECTION_DONE))
                & Inspection.submitted_at.is_not_null()
                & (Inspection.submitted_at < until)
            )
            .order_by(Inspection.tenant)
            .order_by(Inspection.submitted_at, ascending=False)
            .order_by(Inspection.id, ascending=False)
        )
