"""All database access for the calendar: national days, published years, regional days.

National days and years are not tenant-owned (one State Council notice for everybody):
anybody may read them, only the system scope (platform admin, manifests) writes them.
Regional days are shared rows owned by a division: read where the owner is in the scope's
``shared_ids`` or ``read_ids``, written by the owner only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from app import db
from app.calendar.tables import CalendarYear, NationalDay, RegionalDay
from app.tenancy.scope import TenantScope


def _system(scope: TenantScope) -> None:
    if not scope.system:
        raise PermissionError("only the system scope changes national calendar data")


def _year(column: Any, year: int | None) -> Any:
    if year is None:
        return None
    return (column >= date(year, 1, 1)) & (column < date(year + 1, 1, 1))


# --- published years ----------------------------------------------------------------------


async def calendar_years(scope: TenantScope) -> list[dict[str, Any]]:
    return await CalendarYear.select().order_by(CalendarYear.year)


async def upsert_calendar_year(scope: TenantScope, year: int, notice: str) -> str:
    """Publish ``year`` (or change its notice reference): "created", "updated", "unchanged"."""
    _system(scope)
    row = await CalendarYear.select().where(CalendarYear.year == year).first()
    if row is None:
        await CalendarYear.insert(CalendarYear(year=year, notice=notice))
        return "created"
    if row["notice"] == notice:
        return "unchanged"
    await CalendarYear.update({CalendarYear.notice: notice}).where(CalendarYear.id == row["id"])
    return "updated"


# --- national days ------------------------------------------------------------------------


async def national_days(scope: TenantScope, year: int | None = None) -> list[dict[str, Any]]:
    query = NationalDay.select(NationalDay.day, NationalDay.kind, NationalDay.name)
    where = _year(NationalDay.day, year)
    if where is not None:
        query = query.where(where)
    return await query.order_by(NationalDay.day)


async def national_day_years(scope: TenantScope) -> list[int]:
    """Every year that has at least one national day (published or not)."""
    rows = await NationalDay.select(NationalDay.day)
    return sorted({r["day"].year for r in rows})


async def upsert_national_day(scope: TenantScope, day: date, kind: str, name: str) -> str:
    """Insert or fix the national day ``day``: "created", "updated" or "unchanged"."""
    _system(scope)
    row = await NationalDay.select().where(NationalDay.day == day).first()
    if row is None:
        await NationalDay.insert(NationalDay(day=day, kind=kind, name=name))
        return "created"
    if (row["kind"], row["name"]) == (kind, name):
        return "unchanged"
    await NationalDay.update(
        {NationalDay.kind: kind, NationalDay.name: name, NationalDay.updated_at: datetime.now(UTC)}
    ).where(NationalDay.id == row["id"])
    return "updated"


async def delete_national_days(scope: TenantScope, first: date, last: date) -> list[dict[str, Any]]:
    """Remove the national days from ``first`` to ``last`` (inclusive); returns them."""
    _system(scope)
    where = (NationalDay.day >= first) & (NationalDay.day <= last)
    rows = await NationalDay.select(NationalDay.day, NationalDay.kind, NationalDay.name).where(
        where
    )
    if rows:
        await NationalDay.delete().where(where)
    return rows


# --- regional days (shared, owned by a division) --------------------------------------------


async def regional_days(
    scope: TenantScope, owner_ids: Iterable[int], year: int | None = None
) -> list[dict[str, Any]]:
    """The regional days of the owners among ``owner_ids`` that the scope may read."""
    visible = [i for i in owner_ids if i in scope.shared_ids | scope.read_ids]
    if not visible:
        return []
    where = RegionalDay.tenant.is_in(visible)
    by_year = _year(RegionalDay.day, year)
    if by_year is not None:
        where = where & by_year
    async with db.read(scope):
        return (
            await RegionalDay.select(
                RegionalDay.tenant, RegionalDay.day, RegionalDay.kind, RegionalDay.name
            )
            .where(where)
            .order_by(RegionalDay.day)
        )


async def upsert_regional_day(
    scope: TenantScope, owner_id: int, day: date, kind: str, name: str
) -> str:
    """Insert or fix the owner's regional day ``day``: "created", "updated" or "unchanged"."""
    scope.check_write(owner_id)
    row = (
        await RegionalDay.select()
        .where((RegionalDay.tenant == owner_id) & (RegionalDay.day == day))
        .first()
    )
    if row is None:
        await RegionalDay.insert(RegionalDay(tenant=owner_id, day=day, kind=kind, name=name))
        return "created"
    if (row["kind"], row["name"]) == (kind, name):
        return "unchanged"
    await RegionalDay.update(
        {RegionalDay.kind: kind, RegionalDay.name: name, RegionalDay.updated_at: datetime.now(UTC)}
    ).where(RegionalDay.id == row["id"])
    return "updated"


async def delete_regional_days(
    scope: TenantScope, owner_id: int, first: date, last: date
) -> list[dict[str, Any]]:
    """Remove the owner's regional days from ``first`` to ``last`` (inclusive); returns them."""
    scope.check_write(owner_id)
    where = (
        (RegionalDay.tenant == owner_id) & (RegionalDay.day >= first) & (RegionalDay.day <= last)
    )
    rows = await RegionalDay.select(RegionalDay.day, RegionalDay.kind, RegionalDay.name).where(
        where
    )
    if rows:
        await RegionalDay.delete().where(where)
    return rows
