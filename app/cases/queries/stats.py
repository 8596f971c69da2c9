"""The monthly case figures (app.metrics): marking changed months, counting one centre-month
from the case rows, storing and reading the results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.cases.tables import CaseMonthStat, StatDirty
from app.metrics import COUNTS, LEVELS, month_key, month_range
from app.tenancy.scope import TenantScope


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


async def mark_case_months(scope: TenantScope, tenant_id: int, case_id: int, at: datetime) -> None:
    """Mark the months an event of this case can change: its own, the case's registration
    and conclusion months (inside the caller's write; plain INSERTs, no RETURNING)."""
    rows = await _sql("SELECT registered_at, concluded_at FROM service_case WHERE id = {}", case_id)
    months = {month_key(at)}
    for row in rows:
        for name in ("registered_at", "concluded_at"):
            value = row[name]
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            if value is not None:
                months.add(month_key(value))
    for month in sorted(months):
        await _sql(
            "INSERT INTO stat_dirty (tenant_id, month, marked_at) VALUES ({}, {}, {})"
            " ON CONFLICT (tenant_id, month) DO NOTHING",
            tenant_id,
            month,
            at,
        )


async def claim_refresh(scope: TenantScope) -> bool:
    """One refresher at a time on PostgreSQL (a transaction-level advisory lock, inside the
    caller's write); SQLite's write transactions already run one at a time."""
    if not db.is_postgres():
        return True
    rows = await _sql("SELECT pg_try_advisory_xact_lock(731001) AS ok")
    return bool(rows and rows[0]["ok"])


async def take_dirty(scope: TenantScope, limit: int) -> list[tuple[int, int]]:
    """Up to ``limit`` marked (tenant, month) pairs, removed (inside the caller's write)."""
    rows = (
        await StatDirty.select(StatDirty.id, StatDirty.tenant, StatDirty.month)
        .where(StatDirty.tenant.is_in(list(scope.write_ids)))
        .order_by(StatDirty.id)
        .limit(limit)
    )
    if rows:
        await StatDirty.delete().where(StatDirty.id.is_in([r["id"] for r in rows]))
    return [(r["tenant_id"], r["month"]) for r in rows]


async def count_month(scope: TenantScope, tenant_id: int, month: int) -> dict[str, int]:
    """Every count of app.metrics for one centre and local month, from the case rows."""
    start, end = month_range(month)
    kinds = ", ".join(
        f"SUM(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END) AS {k}"
        for k in ("immediate", "promised", "joint", "escalated")
    )
    registered = await _sql(
        f"SELECT COUNT(*) AS registered, {kinds},"  # noqa: S608 - constant column names
        " SUM(CASE WHEN urgent THEN 1 ELSE 0 END) AS urgent,"
        " SUM(CASE WHEN notices > 0 THEN 1 ELSE 0 END) AS supplemented"
        " FROM service_case WHERE tenant_id = {} AND registered_at >= {} AND registered_at < {}",
        tenant_id,
        start,
        end,
    )
    concluded = await _sql(
        "SELECT COUNT(*) AS concluded,"
        " SUM(CASE WHEN on_time THEN 1 ELSE 0 END) AS on_time,"
        " SUM(CASE WHEN NOT on_time THEN 1 ELSE 0 END) AS late,"
        " SUM(CASE WHEN rated THEN 0 ELSE 1 END) AS unrated"
        " FROM service_case WHERE tenant_id = {} AND concluded_at >= {} AND concluded_at < {}",
        tenant_id,
        start,
        end,
    )
    events = await _sql(
        "SELECT action, COUNT(*) AS n FROM case_event WHERE tenant_id = {} AND at >= {}"
        " AND at < {} AND action IN ('accepted', 'notice', 'refused', 'returned')"
        " GROUP BY action",
        tenant_id,
        start,
        end,
    )
    ratings = await _sql(
        "SELECT level, COUNT(*) AS n FROM rating WHERE tenant_id = {} AND rated_at >= {}"
        " AND rated_at < {} GROUP BY level",
        tenant_id,
        start,
        end,
    )
    out = dict.fromkeys(COUNTS, 0)
    for row in (*registered, *concluded):
        for name, value in row.items():
            out[name] = int(value or 0)
    by_action = {r["action"]: int(r["n"]) for r in events}
    out["accepted"] = by_action.get("accepted", 0)
    out["notices"] = by_action.get("notice", 0)
    out["refused"] = by_action.get("refused", 0)
    out["returned"] = by_action.get("returned", 0)
    by_level = {int(r["level"]): int(r["n"]) for r in ratings}
    for level in LEVELS:
        out[f"level_{level}"] = by_level.get(level, 0)
    out["rated"] = sum(by_level.values())
    return out


async def store_month(
    scope: TenantScope, tenant_id: int, month: int, counts: dict[str, int], now: datetime
) -> None:
    """Replace the stored figures of one centre-month (inside the caller's write)."""
    await CaseMonthStat.delete().where(
        (CaseMonthStat.tenant == tenant_id) & (CaseMonthStat.month == month)
    )
    values: dict[str, Any] = {"tenant": tenant_id, "month": month, "computed_at": now, **counts}
    await CaseMonthStat.insert(CaseMonthStat(**values))


async def month_stats(
    scope: TenantScope, tenant_ids: list[int], first: int, last: int
) -> list[dict[str, Any]]:
    """Stored figures of the given centres from month ``first`` to ``last`` (yyyymm)."""
    allowed = [t for t in tenant_ids if t in scope.read_ids]
    if not allowed:
        return []
    async with db.read(scope):
        return (
            await CaseMonthStat.select(*CaseMonthStat.all_columns())
            .where(
                CaseMonthStat.tenant.is_in(allowed)
                & (CaseMonthStat.month >= first)
                & (CaseMonthStat.month <= last)
            )
            .order_by(CaseMonthStat.tenant)
            .order_by(CaseMonthStat.month)
        )


async def months_with_cases(scope: TenantScope) -> list[tuple[int, int]]:
    """Every (tenant, month) that has a registered case (a full rebuild)."""
    async with db.read(scope):
        rows = await _sql("SELECT tenant_id, registered_at FROM service_case")
    out = set()
    for row in rows:
        value = row["registered_at"]
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if row["tenant_id"] in scope.write_ids:
            out.add((row["tenant_id"], month_key(value)))
    return sorted(out)


async def carried_over(scope: TenantScope, tenant_id: int, month: int) -> int:
    """Cases of a centre still open when the local month began: registered before it and
    neither concluded nor closed (not accepted, returned) before it (app.metrics)."""
    if tenant_id not in scope.read_ids:
        return 0
    start, _end = month_range(month)
    async with db.read(scope):
        rows = await _sql(
            "SELECT COUNT(*) AS n FROM service_case c WHERE c.tenant_id = {}"
            " AND c.registered_at < {} AND (c.concluded_at IS NULL OR c.concluded_at >= {})"
            " AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id"
            " AND e.action IN ('refused', 'returned') AND e.at < {})",
            tenant_id,
            start,
            start,
            start,
        )
    return int(rows[0]["n"] or 0) if rows else 0
