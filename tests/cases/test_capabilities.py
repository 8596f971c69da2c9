"""Every workflow action is gated by its capability, its tenant and its state.

For each action of ``workflow.ACTIONS``: a scope of the case's own centre holding every
case capability but that one is refused (403); with it the action passes the check in a
state it starts from and is refused (WorkflowError) in a state it does not; a scope of
another centre answers 404; a supervisor of the parent who can read the case but not act
on a centre's own step gets 403.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.accounts.roles import CAPABILITIES
from app.cases import timeline, workflow
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden, NotFound

CASE_CAPS = frozenset(c for caps in CAPABILITIES.values() for c in caps if c.startswith("case."))
OWN, OTHER, PARENT = 10, 20, 1


class Caps(TenantScope):
    """A scope whose capabilities are given directly (not derived from roles)."""

    granted: frozenset[str] = frozenset()

    @property
    def caps(self) -> frozenset[str]:
        return self.granted


def scope(tenant: int, granted: frozenset[str], supervise: frozenset[int] = frozenset()) -> Caps:
    s = Caps(
        tenant_id=tenant,
        user_id=7,
        roles=frozenset({"clerk"}),
        read_ids=frozenset({tenant}) | supervise,
        write_ids=frozenset({tenant}),
        shared_ids=frozenset({tenant}),
        supervise_ids=supervise,
    )
    object.__setattr__(s, "granted", granted)
    return s


def case(state: str, kind: str = "promised", queue: int = OWN) -> dict[str, Any]:
    return {"tenant_id": OWN, "queue_tenant_id": queue, "kind": kind, "state": state}


ACTIONS = sorted(workflow.ACTIONS)


@pytest.mark.parametrize("name", ACTIONS)
def test_without_the_capability_the_action_is_forbidden(name: str) -> None:
    action = workflow.ACTIONS[name]
    start = sorted(action.sources)[0]
    with pytest.raises(Forbidden):
        timeline.check(scope(OWN, CASE_CAPS - {action.capability}), case(start), name)


@pytest.mark.parametrize("name", ACTIONS)
def test_with_the_capability_it_passes_only_from_its_states(name: str) -> None:
    action = workflow.ACTIONS[name]
    allowed = scope(OWN, frozenset({action.capability}))
    for state in workflow.STATES:
        if state in action.sources:
            assert timeline.check(allowed, case(state), name) is action
        else:
            with pytest.raises(workflow.WorkflowError):
                timeline.check(allowed, case(state), name)


@pytest.mark.parametrize("name", ACTIONS)
def test_another_centre_gets_404_and_a_reading_supervisor_403(name: str) -> None:
    action = workflow.ACTIONS[name]
    start = sorted(action.sources)[0]
    with pytest.raises(NotFound):
        timeline.check(scope(OTHER, CASE_CAPS), case(start), name)
    supervisor = scope(PARENT, CASE_CAPS, supervise=frozenset({OWN}))
    with pytest.raises(Forbidden):
        timeline.check(supervisor, case(start), name)


@pytest.mark.parametrize("name", [n for n in ACTIONS if workflow.ACTIONS[n].escalated_in_queue])
def test_escalated_cases_are_acted_on_in_the_parents_queue_only(name: str) -> None:
    action = workflow.ACTIONS[name]
    start = sorted(action.sources)[0]
    escalated = case(start, kind="escalated", queue=PARENT)
    # The centre itself no longer takes the step …
    with pytest.raises(Forbidden):
        timeline.check(scope(OWN, CASE_CAPS), escalated, name)
    # … the parent's supervisor does, with case.escalated …
    parent = scope(PARENT, CASE_CAPS, supervise=frozenset({OWN}))
    assert timeline.check(parent, escalated, name) is action
    # … and not without it.
    without = scope(PARENT, CASE_CAPS - {"case.escalated"}, supervise=frozenset({OWN}))
    with pytest.raises(Forbidden):
        timeline.check(without, escalated, name)


def test_roles_split_the_desk_as_designed() -> None:
    clerk, manager = CAPABILITIES["clerk"], CAPABILITIES["manager"]
    for cap in ("case.decide", "case.extend", "case.handover", "case.unmask"):
        assert cap not in clerk and cap in manager
    assert "case.escalated" in CAPABILITIES["supervisor"]
    assert dataclasses.is_dataclass(TenantScope)
