"""What the light-notice sweep reads and writes (system scope): cases showing a yellow or
red light that have no notice yet for that light and due moment (an anti-join, in
batches), and the notice row itself — inserted once, whoever runs the sweep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.cases.workflow import CLOCK_RUNNING
from app.tenancy.scope import TenantScope

_RUNNING = ",".join(f"'{s}'" for s in sorted(CLOCK_RUNNING))  # constant state names

_LACKING = (
    " FROM service_case c WHERE c.light IN ('yellow', 'red')"  # noqa: S608 - constants only
    f" AND c.state IN ({_RUNNING}) AND NOT c.paused AND c.promised_due_at IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM light_notice n WHERE n.tenant_id = c.tenant_id"
    " AND n.case_id = c.id AND n.light = c.light AND n.due_at = c.promised_due_at)"
)


def _in(ids: list[int]) -> str:
    """An inline id list (ints only: no user text reaches the SQL)."""
    return ",".join(str(int(i)) for i in ids)


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


async def tenants_waiting(scope: TenantScope) -> list[int]:
    """The tenants with at least one case waiting for a light notice."""
    ids = sorted(scope.read_ids)
    if not ids:
        return []
    async with db.read(scope):
        rows = await _sql(
            "SELECT DISTINCT c.tenant_id AS tenant_id"
            + _LACKING
            + f" AND c.tenant_id IN ({_in(ids)})"
        )
    return sorted(int(r["tenant_id"]) for r in rows)


async def waiting(
    scope: TenantScope, tenant_ids: list[int], after_id: int, limit: int
) -> list[dict[str, Any]]:
    """Cases of these tenants lacking a notice for their light, by id after ``after_id``."""
    ids = sorted(t for t in tenant_ids if t in scope.read_ids)
    if not ids:
        return []
    async with db.read(scope):
        return await _sql(
            "SELECT c.id AS id, c.tenant_id AS tenant_id, c.light AS light,"
            " c.number AS number, c.item_name AS item_name, c.owner_id AS owner_id,"
            " c.promised_due_at AS promised_due_at, c.legal_exceeded AS legal_exceeded"
            + _LACKING
            + f" AND c.tenant_id IN ({_in(ids)}) AND c.id > {{}} ORDER BY c.id LIMIT {{}}",
            after_id,
            limit,
        )


async def claim(
    scope: TenantScope, tenant_id: int, case_id: int, light: str, recipients: int, now: datetime
) -> dict[str, Any] | None:
    """Record the notice of the case's current light (inside the caller's write); None when
    it was already recorded or the light is no longer ``light`` — then send nothing."""
    scope.check_write(tenant_id)
    rows = await _sql(
        "INSERT INTO light_notice (tenant_id, case_id, light, due_at, recipients, sent_at)"
        " SELECT c.tenant_id, c.id, c.light, c.promised_due_at, {}, {} FROM service_case c"
        " WHERE c.id = {} AND c.tenant_id = {} AND c.light = {}"
        " AND c.promised_due_at IS NOT NULL"
        " ON CONFLICT (tenant_id, case_id, light, due_at) DO NOTHING RETURNING id",
        recipients,
        now,
        case_id,
        tenant_id,
        light,
    )
    return rows[0] if rows else None


async def notices_of_case(scope: TenantScope, case_id: int) -> list[dict[str, Any]]:
    """The light notices recorded for one case (oldest first)."""
    ids = _in(sorted(scope.read_ids)) or "0"
    async with db.read(scope):
        return await _sql(
            "SELECT id, tenant_id, case_id, light, due_at, recipients, sent_at"  # noqa: S608
            f" FROM light_notice WHERE case_id = {{}} AND tenant_id IN ({ids})"
            " ORDER BY id",
            case_id,
        )
