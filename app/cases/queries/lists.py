"""Case lists: the tabs (mine, my window's queue, the centre, the escalated queue, repeat
notices, the subtree), their filters, search and paging.

A search never reads ``id_number``: an ID is matched through its keyed hash only.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import Where
from piccolo.query import OrderByRaw

from app import db
from app.accounts.tables import WindowPost
from app.cases.tables import Case
from app.tenancy.scope import TenantScope

ROW_COLUMNS = (
    Case.id,
    Case.tenant,
    Case.queue_tenant,
    Case.number,
    Case.item_code,
    Case.item_name,
    Case.kind,
    Case.applicant_kind,
    Case.applicant_name,
    Case.id_number,  # masked before it reaches a template
    Case.phone,  # masked before it reaches a template
    Case.state,
    Case.urgent,
    Case.green_channel,
    Case.paused,
    Case.light,
    Case.legal_exceeded,
    Case.promised_due_at,
    Case.due_provisional,
    Case.registered_at,
    Case.notices,
    Case.window,
    Case.owner,
    Case.owner.display_name.as_alias("owner_name"),
    Case.window.name.as_alias("window_name"),
    Case.tenant.slug.as_alias("tenant_slug"),
    Case.tenant.name.as_alias("tenant_name"),
)

# Urgent first, then red, then yellow, then by the promised due date (none last), newest.
ORDER = (
    OrderByRaw("CASE WHEN service_case.urgent THEN 0 ELSE 1 END"),
    OrderByRaw("CASE service_case.light WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END"),
    OrderByRaw("CASE WHEN service_case.promised_due_at IS NULL THEN 1 ELSE 0 END"),
)


@dataclass(frozen=True)
class CaseFilter:
    """What one list shows; every field narrows it (empty = no condition)."""

    tenant_ids: frozenset[int]  # intersected with the scope's read_ids
    exclude_tenant: int | None = None
    owner_id: int | None = None
    window_ids: frozenset[int] | None = None
    queue_tenant_id: int | None = None
    states: frozenset[str] | None = None
    min_notices: int = 0
    item_code: str = ""
    kind: str = ""
    light: str = ""
    due: str = ""  # soon (yellow) | overdue (red or past the legal limit)
    urgent: bool = False
    paused: bool = False
    # Search: a case number (exact or suffix) or an applicant name (contains) …
    text: str = ""
    # … or an ID number, given as its keyed hash (exclusive with ``text``).
    id_hash: str = ""


def _like_text(value: str) -> str:
    """The search text without LIKE wildcards (names and numbers never contain them)."""
    return "".join(ch for ch in value if ch not in "%_\\")


def _conditions(scope: TenantScope, f: CaseFilter) -> Where | None:
    ids = sorted(f.tenant_ids & scope.read_ids)
    if not ids:
        return None
    conds: list[Any] = [Case.tenant.is_in(ids)]
    if f.exclude_tenant is not None:
        conds.append(Case.tenant != f.exclude_tenant)
    if f.owner_id is not None:
        conds.append(Case.owner == f.owner_id)
    if f.window_ids is not None:
        if not f.window_ids:
            return None
        conds.append(Case.window.is_in(sorted(f.window_ids)))
    if f.queue_tenant_id is not None:
        conds.append(Case.queue_tenant == f.queue_tenant_id)
    if f.states is not None:
        if not f.states:
            return None
        conds.append(Case.state.is_in(sorted(f.states)))
    if f.min_notices:
        conds.append(Case.notices >= f.min_notices)
    if f.item_code:
        conds.append(Case.item_code == f.item_code)
    if f.kind:
        conds.append(Case.kind == f.kind)
    if f.light:
        conds.append(Case.light == f.light)
    if f.due == "soon":
        conds.append(Case.light == "yellow")
    elif f.due == "overdue":
        conds.append((Case.light == "red") | (Case.legal_exceeded == True))  # noqa: E712
    if f.urgent:
        conds.append(Case.urgent == True)  # noqa: E712
    if f.paused:
        conds.append(Case.paused == True)  # noqa: E712
    if f.id_hash:
        conds.append(Case.id_hash == f.id_hash)
    elif f.text:
        text = _like_text(f.text)
        if not text:
            return None
        number = text.upper()
        # SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE for the same answer.
        name = (
            Case.applicant_name.ilike(f"%{text}%")
            if db.is_postgres()
            else Case.applicant_name.like(f"%{text}%")
        )
        conds.append((Case.number == number) | Case.number.like(f"%{number}") | name)
    return functools.reduce(operator.and_, conds)


async def cases(scope: TenantScope, f: CaseFilter, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of the list, in list order."""
    where = _conditions(scope, f)
    if where is None:
        return []
    async with db.read(scope):
        query = Case.select(*ROW_COLUMNS).where(where)
        for order in ORDER:
            query = query.order_by(order)
        query = query.order_by(Case.promised_due_at).order_by(Case.id, ascending=False)
        return await query.limit(limit).offset(offset)


async def count(scope: TenantScope, f: CaseFilter) -> int:
    where = _conditions(scope, f)
    if where is None:
        return 0
    async with db.read(scope):
        return int(await Case.count().where(where))


async def item_choices(scope: TenantScope, tenant_ids: frozenset[int]) -> list[tuple[str, str]]:
    """(code, name) of the items the given centres have cases of, by code."""
    ids = sorted(tenant_ids & scope.read_ids)
    if not ids:
        return []
    async with db.read(scope):
        rows = (
            await Case.select(Case.item_code, Case.item_name)
            .where(Case.tenant.is_in(ids))
            .distinct()
        )
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row["item_code"], row["item_name"])
    return sorted(names.items())


async def my_window_ids(scope: TenantScope, tenant_id: int, user_id: int) -> frozenset[int]:
    """The windows of a centre where the user holds the A or the B post."""
    if tenant_id not in scope.read_ids:
        return frozenset()
    async with db.read(scope):
        rows = await WindowPost.select(WindowPost.window).where(
            (WindowPost.tenant == tenant_id)
            & (WindowPost.user == user_id)
            & WindowPost.post.is_in(["A", "B"])
        )
    return frozenset(int(r["window_id"]) for r in rows)
