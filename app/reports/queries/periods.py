"""Report periods (one form, one month), lock exceptions and reminders sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import db
from app.reports.tables import ReportException, ReportPeriod, ReportReminder
from app.tenancy.scope import TenantScope

COLUMNS = (
    *ReportPeriod.all_columns(),
    ReportPeriod.version.number.as_alias("version_number"),
    ReportPeriod.form.code.as_alias("form_code"),
    ReportPeriod.form.title.as_alias("form_title"),
)


def _visible(scope: TenantScope) -> list[int]:
    return sorted(scope.shared_ids | scope.read_ids)


async def period(scope: TenantScope, period_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ReportPeriod.select(*COLUMNS)
            .where((ReportPeriod.id == period_id) & ReportPeriod.tenant.is_in(_visible(scope)))
            .first()
        )


async def period_for(scope: TenantScope, form_id: int, month: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ReportPeriod.select(*COLUMNS)
            .where(
                (ReportPeriod.form == form_id)
                & (ReportPeriod.month == month)
                & ReportPeriod.tenant.is_in(_visible(scope))
            )
            .first()
        )


async def periods(
    scope: TenantScope, form_id: int, first: int | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """The form's periods, newest first (optionally from month ``first`` to ``last``)."""
    async with db.read(scope):
        query = ReportPeriod.select(*COLUMNS).where(
            (ReportPeriod.form == form_id) & ReportPeriod.tenant.is_in(_visible(scope))
        )
        if first is not None:
            query = query.where(ReportPeriod.month >= first)
        if last is not None:
            query = query.where(ReportPeriod.month <= last)
        return await query.order_by(ReportPeriod.month, ascending=False)


async def open_periods(scope: TenantScope, on: date) -> list[dict[str, Any]]:
    """Periods whose window includes ``on`` or is still open for filing (due or lock
    day not past): what the reminder sweep looks at."""
    async with db.read(scope):
        return (
            await ReportPeriod.select(*COLUMNS)
            .where((ReportPeriod.lock_on >= on) & ReportPeriod.tenant.is_in(_visible(scope)))
            .order_by(ReportPeriod.id)
        )


async def insert_period(scope: TenantScope, tenant_id: int, **values: Any) -> bool:
    """Open a period (inside the caller's write); False when it was already open."""
    scope.check_write(tenant_id)
    existing = (
        await ReportPeriod.select(ReportPeriod.id)
        .where(
            (ReportPeriod.tenant == tenant_id)
            & (ReportPeriod.form == values["form"])
            & (ReportPeriod.month == values["month"])
        )
        .first()
    )
    if existing:
        return False
    await ReportPeriod.insert(ReportPeriod(tenant=tenant_id, **values))
    return True


# --- exceptions ---------------------------------------------------------------------------


async def exceptions(
    scope: TenantScope, period_id: int, tenant_id: int | None = None
) -> list[dict[str, Any]]:
    async with db.read(scope):
        query = ReportException.select(
            *ReportException.all_columns(),
            ReportException.granted_by.display_name.as_alias("granted_by_name"),
            ReportException.tenant.name.as_alias("tenant_name"),
        ).where(
            (ReportException.period == period_id)
            & ReportException.tenant.is_in(list(scope.read_ids))
        )
        if tenant_id is not None:
            query = query.where(ReportException.tenant == tenant_id)
        return await query.order_by(ReportException.granted_at, ascending=False)


async def exceptions_of(scope: TenantScope, tenant_id: int, form_id: int) -> list[dict[str, Any]]:
    """Every exception granted to one centre for the periods of one form (its list page)."""
    if tenant_id not in scope.read_ids:
        return []
    async with db.read(scope):
        return (
            await ReportException.select()
            .where((ReportException.tenant == tenant_id) & (ReportException.period.form == form_id))
            .order_by(ReportException.granted_at, ascending=False)
        )


async def insert_exception(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (a supervisor of the centre)."""
    if tenant_id not in scope.supervise_ids:
        raise PermissionError("not supervised")
    rows = await ReportException.insert(ReportException(tenant=tenant_id, **values)).returning(
        ReportException.id
    )
    return int(rows[0]["id"])


# --- reminders ----------------------------------------------------------------------------


async def claim_reminder(
    scope: TenantScope, tenant_id: int, period_id: int, kind: str, at: datetime
) -> bool:
    """Record that a reminder goes out (inside the caller's write); False if it already did."""
    scope.check_write(tenant_id)
    found = (
        await ReportReminder.select(ReportReminder.id)
        .where(
            (ReportReminder.tenant == tenant_id)
            & (ReportReminder.period == period_id)
            & (ReportReminder.kind == kind)
        )
        .first()
    )
    if found:
        return False
    await ReportReminder.insert(
        ReportReminder(tenant=tenant_id, period=period_id, kind=kind, sent_at=at)
    )
    return True


async def reminders(scope: TenantScope, period_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await ReportReminder.select()
            .where(
                (ReportReminder.period == period_id)
                & ReportReminder.tenant.is_in(list(scope.read_ids))
            )
            .order_by(ReportReminder.id)
        )
