"""Shared helpers for the work-log and assessment tests: a fresh window per test (so counts
never depend on other modules' rows), past working days, cases put on that window."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app import db
from app.accounts import queries as accounts
from app.calendar import services as calendar
from app.calendar.workdays import SHANGHAI
from app.cases.tables import Case
from app.staff import worklog
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import MARRIAGE, register, run, scope_of

__all__ = ["at", "entry", "new_window", "put_on_window", "run", "scope_of", "working_days"]


async def new_window(slug: str, a_post: str, b_post: str | None = None) -> int:
    """A new window of ``slug`` with its A (and B) post, for one test."""
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    system = system_scope(tree, reason="tests: window")
    code = f"T{secrets.token_hex(4)}"
    async with db.write(system):
        window_id, _status = await tenancy.upsert_window(
            system, tenant_id, code, [], name=f"测试窗口 {code}", note="", sort=99
        )
        for post, username in (("A", a_post), ("B", b_post)):
            if username:
                user = await accounts.user_by_username(username)
                assert user is not None
                await accounts.set_window_post(system, tenant_id, window_id, post, user["id"])
    return int(window_id)


async def working_days(slug: str, first: date, count: int) -> list[date]:
    """The first ``count`` working days of the centre from ``first`` on."""
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: calendar")
    cal = await calendar.load(system, tree.by_slug[slug].id)
    out: list[date] = []
    day = first
    while len(out) < count:
        if cal.days.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def at(day: date, hour: int = 11) -> datetime:
    """A moment of a local (Asia/Shanghai) day, in UTC."""
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


async def put_on_window(
    clerk: str, slug: str, window_id: int, registered: datetime, **values: Any
) -> int:
    """An immediate case registered at ``registered`` and set on ``window_id``; ``values``
    overwrite columns (e.g. concluded_at, on_time, rated)."""
    case = await register(clerk, slug, MARRIAGE, now=registered)
    system = system_scope(await tenancy.tree(), reason="tests: case window")
    async with db.write(system):
        await Case.update(
            {getattr(Case, k): v for k, v in {"window": window_id, **values}.items()}
        ).where(Case.id == case["id"])
    return int(case["id"])


def entry(lines: int, *, attendance: list[str] | None = None, **values: str) -> worklog.Entry:
    return worklog.Entry(
        attendance=attendance or ["present"] * lines,
        notes=values.pop("notes", "").split("|") if values.get("notes") else [""] * lines,
        offline=values.get("offline", "0"),
        style_notes=values.get("style_notes", ""),
        discipline_notes=values.get("discipline_notes", ""),
        note=values.get("note", ""),
    )


async def make_log(slug: str, writer: str) -> int:
    """A work log of ``slug`` (a new window, the last working day before today) written by
    ``writer`` (who holds its A post) — e.g. for the security harness's ``log_id``."""
    from app.tenancy.scope import for_user, user_scope

    window = await new_window(slug, writer)
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    system = system_scope(tree, reason="tests: work log")
    cal = await calendar.load(system, tenant_id)
    day = worklog.today() - timedelta(days=1)
    while not cal.days.is_working_day(day):
        day -= timedelta(days=1)
    user = await accounts.user_by_username(writer)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tenant_id, user["id"], mine, False)
    assert scope is not None
    return await worklog.create(None, scope, tenant_id, window, day, entry(1))
