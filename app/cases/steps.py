"""The plumbing every workflow action shares: load, check, write, re-check, apply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from app import db
from app.cases.queries import core as queries
from app.cases.timeline import check, clock, utcnow
from app.cases.workflow import WorkflowError
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound


async def load(scope: TenantScope, case_id: int) -> dict[str, Any]:
    case = await queries.case(scope, case_id)
    if case is None:
        raise NotFound()
    return case


async def run(
    scope: TenantScope,
    case_id: int,
    name: str,
    now: datetime | None,
    body: Callable[[dict[str, Any], datetime, Any, int], Awaitable[Any]],
) -> Any:
    """Check, open the write, re-check on the fresh row, run ``body(case, now, cal, margin)``."""
    now = now or utcnow()
    case = await load(scope, case_id)
    check(scope, case, name)
    cal, margin = await clock(scope, case["tenant_id"])
    async with db.write(scope):
        case = await load(scope, case_id)
        check(scope, case, name)
        return await body(case, now, cal, margin)


def required(text: str, message: str, field: str = "note") -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(message, field)
    return text
