"""The calendar's public API: load a tenant's calendar, answer deadline questions, change days.

Reading::

    cal = await services.load(scope, tenant_id)        # one loader, then pure answers
    cal.due_at(received_at, half_days)  -> Due(at, provisional)
    cal.between(received_at, moment)    -> int  (half-days)
    cal.sessions_left(moment, due)      -> int  (half-days; negative when late)
    cal.in_service(moment)              -> bool
    cal.next_session_start(moment)      -> datetime (UTC)
    cal.is_provisional(day)             -> bool

or the one-shot helpers below (``due_at``, ``in_service``, ``next_session_start``, …) that
load and answer.  Writing (platform admin: national days and published years; a division:
its regional days) is audited and then calls :func:`calendar_changed`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.calendar import queries
from app.calendar.workdays import Days, Due, Hours, Rule, TenantCalendar
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.errors import NotFound

log = logging.getLogger("bianmin.calendar")

# The hours a tenant without its own (``tenant.hours == {}``) is served in.
DEFAULT_HOURS: dict[str, Any] = {
    "summer": {"from": "05-01", "morning": ["09:30", "13:30"], "afternoon": ["16:00", "20:00"]},
    "winter": {"from": "10-01", "morning": ["10:00", "14:00"], "afternoon": ["15:30", "19:30"]},
}


# --- reading ------------------------------------------------------------------------------


async def load_days(scope: TenantScope, tenant_id: int, tree: Tree | None = None) -> Days:
    """Published years, national days, and the regional days of the tenant's divisions."""
    tree = tree or await tenancy.tree()
    owners = [tenant_id, *tree.ancestors(tenant_id)]
    years = await queries.calendar_years(scope)
    national = await queries.national_days(scope)
    regional = await queries.regional_days(scope, owners)
    return Days(
        published=frozenset(r["year"] for r in years),
        national={r["day"]: Rule(r["kind"], r["name"]) for r in national},
        regional={r["day"]: Rule(r["kind"], r["name"]) for r in regional},
    )


async def load_days_of(scope: TenantScope, tenant_ids: list[int], tree: Tree) -> dict[int, Days]:
    """``load_days`` for many tenants at once: years and national days read once, the
    regional days of every tenant's divisions in one query (a page over all centres)."""
    owners = {t: [t, *tree.ancestors(t)] for t in tenant_ids}
    years = frozenset(r["year"] for r in await queries.calendar_years(scope))
    national = {r["day"]: Rule(r["kind"], r["name"]) for r in await queries.national_days(scope)}
    regional: dict[int, dict[date, Rule]] = {}
    for r in await queries.regional_days(scope, {o for ids in owners.values() for o in ids}):
        owner = int(r["tenant_id"])
        regional.setdefault(owner, {})[r["day"]] = Rule(r["kind"], r["name"])
    return {
        t: Days(
            published=years,
            national=national,
            # the nearest division's day wins where two define the same date
            regional={d: rule for o in reversed(ids) for d, rule in regional.get(o, {}).items()},
        )
        for t, ids in owners.items()
    }


async def load(scope: TenantScope, tenant_id: int, tree: Tree | None = None) -> TenantCalendar:
    """The calendar of one tenant the scope may read (404 otherwise)."""
    row = await tenancy.tenant(scope, tenant_id)
    if row is None:
        raise NotFound()
    return TenantCalendar(
        Hours.parse(row.get("hours") or DEFAULT_HOURS), await load_days(scope, tenant_id, tree)
    )


async def due_at(scope: TenantScope, tenant_id: int, received_at: datetime, half_days: int) -> Due:
    return (await load(scope, tenant_id)).due_at(received_at, half_days)


async def between(
    scope: TenantScope, tenant_id: int, received_at: datetime, moment: datetime
) -> int:
    return (await load(scope, tenant_id)).between(received_at, moment)


async def in_service(scope: TenantScope, tenant_id: int, moment: datetime) -> bool:
    return (await load(scope, tenant_id)).in_service(moment)


async def next_session_start(scope: TenantScope, tenant_id: int, moment: datetime) -> datetime:
    return (await load(scope, tenant_id)).next_session_start(moment)


async def is_provisional(scope: TenantScope, day: date) -> bool:
    return day.year not in {r["year"] for r in await queries.calendar_years(scope)}


# --- the recompute hook -------------------------------------------------------------------

Listener = Callable[[frozenset[int], date], Awaitable[None]]
_listeners: list[Listener] = []


def on_calendar_change(listener: Listener) -> Listener:
    """Register ``listener(tenant_ids, from_date)``; usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def calendar_changed(tenant_ids: Iterable[int], from_date: date) -> None:
    """Deadlines of ``tenant_ids`` that run through ``from_date`` or later must be recomputed.

    Called after the change has committed: by the platform admin's national-day and
    publish-year actions (every tenant), by a division's regional-day actions (its
    subtree) and by manifest apply.  The cases domain registers a listener with
    :func:`on_calendar_change` that enqueues its idempotent recompute job (which takes ids).
    A failing listener is logged and never undoes or blocks the calendar change.
    """
    ids = frozenset(tenant_ids)
    if not ids:
        return
    for listener in list(_listeners):
        try:
            await listener(ids, from_date)
        except Exception:
            log.exception("calendar_changed listener %r failed", listener)


# --- writing: national days and published years (platform admin) --------------------------


class CalendarError(Exception):
    """A change refused for a reason the user can fix (shown next to ``field``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def admin_scope(request: Request, tree: Tree) -> TenantScope:
    user = request.state.session.user
    return system_scope(tree, reason="platform admin: calendar", user_id=user.id)


async def save_national_day(request: Request, tree: Tree, day: date, kind: str, name: str) -> str:
    scope = admin_scope(request, tree)
    async with db.write(scope):
        status = await queries.upsert_national_day(scope, day, kind, name)
        if status != "unchanged":
            await audit.record(
                request,
                f"calendar.national_day.{status}",
                object_type="calendar_day",
                object_id=day.isoformat(),
                kind=kind,
                name=name,
            )
    if status != "unchanged":
        await calendar_changed(tree.nodes, day)
    return status


async def remove_national_days(request: Request, tree: Tree, first: date, last: date) -> int:
    """Remove the national days from ``first`` to ``last``; returns how many there were."""
    scope = admin_scope(request, tree)
    async with db.write(scope):
        rows = await queries.delete_national_days(scope, first, last)
        for row in rows:
            await audit.record(
                request,
                "calendar.national_day.removed",
                object_type="calendar_day",
                object_id=row["day"].isoformat(),
                kind=row["kind"],
                name=row["name"],
            )
    if rows:
        await calendar_changed(tree.nodes, first)
    return len(rows)


async def publish_year(request: Request, tree: Tree, year: int, notice: str) -> str:
    scope = admin_scope(request, tree)
    async with db.write(scope):
        status = await queries.upsert_calendar_year(scope, year, notice)
        if status != "unchanged":
            await audit.record(
                request,
                "calendar.year.published" if status == "created" else "calendar.year.updated",
                object_type="calendar_year",
                object_id=year,
                notice=notice,
            )
    if status == "created":
        await calendar_changed(tree.nodes, date(year, 1, 1))
    return status


# --- writing: regional days (a division, for its subtree) ----------------------------------


@dataclass(frozen=True)
class RegionalChange:
    division_id: int
    day: date
    kind: str
    name: str


def _division(scope: TenantScope, tree: Tree, division_id: int) -> None:
    node = tree.nodes.get(division_id)
    if node is None or node.kind != "division":
        raise NotFound()
    scope.require("calendar.regional")
    scope.check_write(division_id)


async def save_regional_day(
    request: Request, scope: TenantScope, tree: Tree, change: RegionalChange
) -> str:
    _division(scope, tree, change.division_id)
    async with db.write(scope):
        status = await queries.upsert_regional_day(
            scope, change.division_id, change.day, change.kind, change.name
        )
        if status != "unchanged":
            await audit.record(
                request,
                f"calendar.regional_day.{status}",
                tenant_id=change.division_id,
                object_type="calendar_day",
                object_id=change.day.isoformat(),
                kind=change.kind,
                name=change.name,
            )
    if status != "unchanged":
        await calendar_changed(tree.subtree(change.division_id), change.day)
    return status


async def remove_regional_days(
    request: Request, scope: TenantScope, tree: Tree, division_id: int, first: date, last: date
) -> int:
    """Remove the division's regional days from ``first`` to ``last``; returns how many."""
    _division(scope, tree, division_id)
    async with db.write(scope):
        rows = await queries.delete_regional_days(scope, division_id, first, last)
        for row in rows:
            await audit.record(
                request,
                "calendar.regional_day.removed",
                tenant_id=division_id,
                object_type="calendar_day",
                object_id=row["day"].isoformat(),
                kind=row["kind"],
                name=row["name"],
            )
    if rows:
        await calendar_changed(tree.subtree(division_id), first)
    return len(rows)
