"""The division's roll-up: the status grid (centres × months) and field values summed or
averaged over a subtree and a range of months — plain aggregate SQL over indexed rows
(``submission`` by form and month; ``report_value`` by form, field and month)."""

from __future__ import annotations

from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.tenancy.scope import TenantScope


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


def _ids(scope: TenantScope, tenant_ids: list[int]) -> list[int]:
    return sorted(t for t in set(tenant_ids) if t in scope.read_ids)


def _in(ids: list[int]) -> str:
    """An inline id list (ints only: no user text reaches the SQL)."""
    return ",".join(str(int(i)) for i in ids)


async def grid(
    scope: TenantScope, form_id: int, tenant_ids: list[int], first: int, last: int
) -> list[dict[str, Any]]:
    """One row per existing submission: tenant, month, status, timeliness."""
    ids = _ids(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await _sql(
            "SELECT id, tenant_id, month, status, on_time, revision"  # noqa: S608
            " FROM submission WHERE form_id = {} AND month >= {}"
            f" AND month <= {{}} AND tenant_id IN ({_in(ids)})",
            form_id,
            first,
            last,
        )


async def waiting(scope: TenantScope, form_id: int, tenant_ids: list[int]) -> list[dict[str, Any]]:
    """Submissions of the centres waiting for a review (submitted, or endorsed by the regiment)."""
    ids = _ids(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await _sql(
            "SELECT tenant_id, month, status, on_time FROM submission"  # noqa: S608
            " WHERE form_id = {} AND status IN ('submitted', 'endorsed')"
            f" AND tenant_id IN ({_in(ids)})",
            form_id,
        )


async def field_values(
    scope: TenantScope,
    form_id: int,
    fields: list[str],
    tenant_ids: list[int],
    first: int,
    last: int,
    *,
    by_month: bool = False,
) -> list[dict[str, Any]]:
    """Sum, count of reports and (for averages) the mean of each field per centre (or per
    centre and month), counting submitted reports only (a returned one leaves the roll-up)."""
    ids = _ids(scope, tenant_ids)
    if not ids or not fields:
        return []
    month = ", month" if by_month else ""
    names = ",".join("{}" for _ in fields)
    async with db.read(scope):
        return await _sql(
            f"SELECT tenant_id{month}, field, SUM(value) AS total, COUNT(*) AS reports"  # noqa: S608
            " FROM report_value WHERE form_id = {} AND field IN (" + names + ")"
            " AND month >= {} AND month <= {} AND counted"
            f" AND tenant_id IN ({_in(ids)}) GROUP BY tenant_id{month}, field",
            form_id,
            *fields,
            first,
            last,
        )


async def field_months(
    scope: TenantScope, form_id: int, field: str, tenant_ids: list[int], first: int, last: int
) -> list[dict[str, Any]]:
    """One field over the subtree per month (the trend chart): sum and reports counted."""
    ids = _ids(scope, tenant_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await _sql(
            "SELECT month, SUM(value) AS total, COUNT(*) AS reports FROM report_value"  # noqa: S608
            " WHERE form_id = {} AND field = {} AND month >= {} AND month <= {} AND counted"
            f" AND tenant_id IN ({_in(ids)}) GROUP BY month ORDER BY month",
            form_id,
            field,
            first,
            last,
        )


async def case_figures(
    scope: TenantScope, tenant_ids: list[int], first: int, last: int, names: list[str]
) -> list[dict[str, Any]]:
    """The stored case figures (app.metrics, at most a minute behind) summed per centre."""
    ids = _ids(scope, tenant_ids)
    from app.metrics import COUNTS

    wanted = [n for n in names if n in COUNTS]
    if not ids or not wanted:
        return []
    sums = ", ".join(f"SUM({n}) AS {n}" for n in wanted)
    async with db.read(scope):
        return await _sql(
            f"SELECT tenant_id, {sums} FROM case_month_stat WHERE month >= {{}}"  # noqa: S608
            f" AND month <= {{}} AND tenant_id IN ({_in(ids)}) GROUP BY tenant_id",
            first,
            last,
        )
