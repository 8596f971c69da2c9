"""Changing the yellow margin N (黄灯提前量) of a division or regiment.

The new value is saved and audited in one write; once it commits, the existing
``cases.recompute`` job recomputes the cases of the whole subtree (only those whose stored
columns move are written), so stored lights and the moments they change follow N.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.cases import tasks as case_tasks
from app.jobs import send
from app.reports.periods import local_today
from app.supervision.queries import settings as queries
from app.tenancy.scope import TenantScope, Tree


class StaleSetting(Exception):
    """Someone changed N since the form was loaded."""


async def save_yellow_days(
    request: Request | None,
    scope: TenantScope,
    tree: Tree,
    tenant_id: int,
    yellow_days: int,
    note: str,
    lock_version: int | None,
    now: datetime | None = None,
) -> int | None:
    """Save N for ``tenant_id`` (the scope's own division or regiment); returns the previous
    value (None: none was set).  Raises :class:`StaleSetting` for a stale form."""
    scope.require("supervision.configure")
    scope.check_write(tenant_id)
    now = now or datetime.now(UTC)
    async with db.write(scope):
        current = await queries.setting(scope, tenant_id)
        if lock_version is not None and current is not None:
            if int(current["lock_version"]) != lock_version:
                raise StaleSetting()
        _id, previous = await queries.save(scope, tenant_id, yellow_days, note, scope.user_id, now)
        await audit.record(
            request,
            "supervision.yellow_days",
            tenant_id=tenant_id,
            object_type="supervision_setting",
            object_id=tenant_id,
            previous=previous,
            yellow_days=yellow_days,
            note=note,
        )
        if previous != yellow_days:
            subtree = sorted(tree.subtree(tenant_id))
            send(case_tasks.recompute, subtree, local_today(now).isoformat())
    return previous
