"""Taking an action on a case: check it, append the timeline event, move the state and
recompute the stored deadline columns — all inside the caller's write transaction.

Every transition of the desk goes through :func:`act`; the light sweep and the
calendar-change job go through :func:`recompute`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.calendar import services as calendar
from app.calendar.workdays import TenantCalendar
from app.cases import deadlines, workflow
from app.cases.queries import core as queries
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or nobody (the applicant rating, a system job)."""

    id: int | None
    name: str

    @classmethod
    def of(cls, user: Any) -> Actor:
        return cls(user.id, getattr(user, "display_name", "") or getattr(user, "username", ""))


SYSTEM = Actor(None, "")


def utcnow() -> datetime:
    return datetime.now(UTC)


async def yellow_days(scope: TenantScope, tenant_id: int) -> int:
    """N, the yellow margin in working days: the nearest setting of the centre or one of its
    ancestors (app.supervision, 黄灯提前量), else the default."""
    from app.supervision.queries import settings as supervision

    found = await supervision.nearest(scope, tenant_id)
    return int(found["yellow_days"]) if found else deadlines.DEFAULT_YELLOW_DAYS


def in_parent_queue(case: dict[str, Any]) -> bool:
    return case["kind"] == "escalated" and case["queue_tenant_id"] != case["tenant_id"]


def check(scope: TenantScope, case: dict[str, Any], name: str) -> workflow.Action:
    """Refuse an action the scope may not take on this case (403/404) or in this state."""
    action = workflow.ACTIONS[name]
    scope.require(action.capability)
    if action.escalated_in_queue and in_parent_queue(case):
        # Reviewed and decided by the parent's supervisors, in the parent's queue.
        if (
            scope.tenant_id != case["queue_tenant_id"]
            or case["tenant_id"] not in scope.supervise_ids
        ):
            raise Forbidden()
        scope.require("case.escalated")
    elif case["tenant_id"] not in scope.write_ids:
        if case["tenant_id"] in scope.read_ids:
            raise Forbidden()
        raise NotFound()
    if case["state"] not in action.sources:
        raise workflow.WorkflowError(
            _(
                "This case is now “%(state)s”: “%(action)s” is no longer possible. "
                "Reload the page to see its latest state.",
                state=str(workflow.STATES[case["state"]]),
                action=str(action.label),
            )
        )
    return action


async def recompute(
    scope: TenantScope,
    case: dict[str, Any],
    events: list[dict[str, Any]],
    cal: TenantCalendar,
    now: datetime,
    margin: int,
) -> deadlines.Deadline:
    """Recompute and store a case's deadline columns from its timeline (in a write)."""
    result = deadlines.compute(
        case["promised_halves"], case["legal_halves"], events, cal, now, margin
    )
    await queries.update_case(scope, case["id"], now, **result.columns())
    return result


async def act(
    scope: TenantScope,
    case: dict[str, Any],
    name: str,
    actor: Actor,
    *,
    now: datetime,
    cal: TenantCalendar,
    margin: int,
    note: str = "",
    data: dict[str, Any] | None = None,
    state: str | None = None,
    columns: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one event (already checked) and apply it; returns the case as it now is.

    ``state`` overrides the action's target (an immediate item concludes at acceptance);
    ``columns`` are further case columns to set with the event.
    """
    spec = workflow.ACTIONS.get(name)
    new_state = state or (spec.target if spec is not None else None) or case["state"]
    await queries.insert_event(
        scope,
        case["tenant_id"],
        case["id"],
        at=now,
        action=name,
        actor_id=actor.id,
        actor_name=actor.name,
        state=new_state,
        note=note,
        data=data,
    )
    values = dict(columns or {})
    values["state"] = new_state
    await queries.update_case(scope, case["id"], now, **values)
    updated = {**case, **values}
    timeline = await queries.events(scope, case["id"])
    result = await recompute(scope, updated, timeline, cal, now, margin)
    return {**updated, **result.columns()}


_clocks: contextvars.ContextVar[dict[int, tuple[TenantCalendar, int]] | None] = (
    contextvars.ContextVar("case_clocks", default=None)
)


async def clock(scope: TenantScope, tenant_id: int) -> tuple[TenantCalendar, int]:
    """The calendar and yellow margin of a centre (load before opening the write).

    Inside :func:`clocks_cached` each centre's clock is read once (bulk loads)."""
    cache = _clocks.get()
    if cache is not None and tenant_id in cache:
        return cache[tenant_id]
    found = await calendar.load(scope, tenant_id), await yellow_days(scope, tenant_id)
    if cache is not None:
        cache[tenant_id] = found
    return found


@contextlib.contextmanager
def clocks_cached() -> Iterator[None]:
    """Reuse each centre's calendar while a bulk job runs (the calendar cannot change
    meanwhile: the demo loader, which runs thousands of actions at once)."""
    token = _clocks.set({})
    try:
        yield
    finally:
        _clocks.reset(token)
