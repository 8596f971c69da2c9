"""Work logs, the window posts they are pre-filled from, and a window's cases of one day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.accounts.tables import WindowPost
from app.staff.tables import WorkLog
from app.tenancy.scope import TenantScope
from app.tenancy.tables import Window

COLUMNS = (
    *WorkLog.all_columns(),
    WorkLog.window.name.as_alias("window_name"),
    WorkLog.window.code.as_alias("window_code"),
    WorkLog.tenant.slug.as_alias("tenant_slug"),
    WorkLog.written_by.display_name.as_alias("written_by_name"),
    WorkLog.reviewed_by.display_name.as_alias("reviewed_by_name"),
)


class Conflict(Exception):
    """The log was saved (or reviewed) by someone else since this copy was loaded."""


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


async def log(scope: TenantScope, log_id: int) -> dict[str, Any] | None:
    """One log the scope may read (None: the caller answers 404)."""
    async with db.read(scope):
        return (
            await WorkLog.select(*COLUMNS)
            .where((WorkLog.id == log_id) & WorkLog.tenant.is_in(list(scope.read_ids)))
            .output(load_json=True)
            .first()
        )


async def log_for(
    scope: TenantScope, tenant_id: int, window_id: int, day: date
) -> dict[str, Any] | None:
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        return (
            await WorkLog.select(*COLUMNS)
            .where(
                (WorkLog.tenant == tenant_id) & (WorkLog.window == window_id) & (WorkLog.day == day)
            )
            .output(load_json=True)
            .first()
        )


async def logs_between_of(
    scope: TenantScope, tenant_ids: list[int], first: date, last: date
) -> list[dict[str, Any]]:
    """The logs of several centres for the days ``first`` … ``last`` (one query)."""
    readable = [t for t in tenant_ids if t in scope.read_ids]
    if not readable:
        return []
    async with db.read(scope):
        return (
            await WorkLog.select(*COLUMNS)
            .where(WorkLog.tenant.is_in(readable) & (WorkLog.day >= first) & (WorkLog.day <= last))
            .order_by(WorkLog.day)
            .order_by(WorkLog.window)
            .output(load_json=True)
        )


async def logs_between(
    scope: TenantScope, tenant_id: int, first: date, last: date
) -> list[dict[str, Any]]:
    """The centre's logs of the days ``first`` … ``last`` (both included)."""
    if tenant_id not in scope.read_ids:
        return []
    async with db.read(scope):
        return (
            await WorkLog.select(*COLUMNS)
            .where((WorkLog.tenant == tenant_id) & (WorkLog.day >= first) & (WorkLog.day <= last))
            .order_by(WorkLog.day)
            .order_by(WorkLog.window)
            .output(load_json=True)
        )


async def window(scope: TenantScope, tenant_id: int, window_id: int) -> dict[str, Any] | None:
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        return (
            await Window.select(Window.id, Window.code, Window.name, Window.tenant)
            .where((Window.id == window_id) & (Window.tenant == tenant_id))
            .first()
        )


async def posts(scope: TenantScope, tenant_id: int, window_id: int) -> list[dict[str, Any]]:
    """Who holds the A and the B post of a window (A first)."""
    if tenant_id not in scope.read_ids:
        return []
    async with db.read(scope):
        return (
            await WindowPost.select(
                WindowPost.post,
                WindowPost.user.id.as_alias("user_id"),
                WindowPost.user.display_name.as_alias("name"),
            )
            .where((WindowPost.tenant == tenant_id) & (WindowPost.window == window_id))
            .order_by(WindowPost.post)
        )


async def window_day_counts(
    scope: TenantScope, tenant_id: int, window_id: int, start: datetime, end: datetime
) -> dict[str, int]:
    """The window's cases registered, accepted and concluded in [start, end) (UTC bounds of
    one local day), from ``service_case.window_id`` and the case's own timestamps."""
    if tenant_id not in scope.read_ids:
        return {"registered": 0, "accepted": 0, "concluded": 0}
    out = {}
    async with db.read(scope):
        for name in ("registered", "accepted", "concluded"):
            rows = await _sql(
                f"SELECT COUNT(*) AS n FROM service_case WHERE tenant_id = {{}}"  # noqa: S608
                f" AND window_id = {{}} AND {name}_at >= {{}} AND {name}_at < {{}}",
                tenant_id,
                window_id,
                start,
                end,
            )
            out[name] = int(rows[0]["n"] or 0) if rows else 0
    return out


async def insert_log(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (the centre itself)."""
    scope.check_write(tenant_id)
    rows = await WorkLog.insert(WorkLog(tenant=tenant_id, **values)).returning(WorkLog.id)
    return int(rows[0]["id"])


async def locked_copy(scope: TenantScope, tenant_id: int, log_id: int) -> dict[str, Any] | None:
    """The current row inside the caller's write (its lock version and review state)."""
    scope.check_write(tenant_id)
    return (
        await WorkLog.select(WorkLog.id, WorkLog.lock_version, WorkLog.reviewed_at)
        .where((WorkLog.id == log_id) & (WorkLog.tenant == tenant_id))
        .first()
    )


async def update_log(
    scope: TenantScope, tenant_id: int, log_id: int, expected: int, **values: Any
) -> int:
    """Change a log (inside the caller's write) if its lock version is still ``expected``;
    returns the new lock version, raises Conflict."""
    current = await locked_copy(scope, tenant_id, log_id)
    if current is None or current["lock_version"] != expected:
        raise Conflict()
    new = int(current["lock_version"]) + 1
    await WorkLog.update(
        {**{getattr(WorkLog, k): v for k, v in values.items()}, WorkLog.lock_version: new}
    ).where((WorkLog.id == log_id) & (WorkLog.tenant == tenant_id))
    return new
