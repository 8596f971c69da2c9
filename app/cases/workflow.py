"""The case workflow as data: states, actions, who may take them and from where.

``registered → accepted → review → decision → concluded → delivered``, with the side
states ``supplement`` (one-time notice issued, waiting for materials), ``refused`` (不予
受理) and ``returned`` (退回).  Every action is one timeline event; its capability comes
from :mod:`app.accounts.roles`.  Escalated (上报) cases are reviewed and decided in the
parent tenant's queue by its supervisors (capability ``case.escalated``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.web.i18n import lazy_gettext as _l

STATES = {
    "registered": _l("Registered"),
    "supplement": _l("Awaiting supplement"),
    "accepted": _l("Accepted"),
    "review": _l("Under review"),
    "decision": _l("Awaiting decision"),
    "concluded": _l("Concluded"),
    "delivered": _l("Delivered"),
    "refused": _l("Not accepted"),
    "returned": _l("Returned"),
}
ORDER = ("registered", "accepted", "review", "decision", "concluded", "delivered")
OPEN = frozenset({"registered", "supplement", "accepted", "review", "decision"})
CLOCK_RUNNING = frozenset({"accepted", "review", "decision"})
FINISHED = frozenset({"concluded", "delivered", "refused", "returned"})


@dataclass(frozen=True)
class Action:
    name: str
    label: object
    capability: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    escalated_in_queue: bool = False  # on an escalated case, taken by the parent's queue


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "notice",
            _l("One-time notice"),
            "case.register",
            frozenset({"registered", "supplement"}),
            "supplement",
        ),
        Action(
            "supplemented",
            _l("Materials supplemented"),
            "case.register",
            frozenset({"supplement"}),
            None,
        ),
        Action(
            "accepted",
            _l("Accept"),
            "case.accept",
            frozenset({"registered", "supplement"}),
            "accepted",
        ),
        Action(
            "refused",
            _l("Do not accept"),
            "case.accept",
            frozenset({"registered", "supplement"}),
            "refused",
        ),
        Action(
            "review",
            _l("Start review"),
            "case.review",
            frozenset({"accepted"}),
            "review",
            escalated_in_queue=True,
        ),
        Action(
            "signed",
            _l("Joint sign-off"),
            "case.review",
            frozenset({"review"}),
            None,
            escalated_in_queue=True,
        ),
        Action(
            "submitted",
            _l("Submit for decision"),
            "case.review",
            frozenset({"review"}),
            "decision",
            escalated_in_queue=True,
        ),
        Action(
            "decided",
            _l("Decide"),
            "case.decide",
            frozenset({"decision"}),
            "concluded",
            escalated_in_queue=True,
        ),
        Action(
            "returned",
            _l("Return"),
            "case.return",
            frozenset({"accepted", "review", "decision"}),
            "returned",
        ),
        Action(
            "paused",
            _l("Pause the clock"),
            "case.pause",
            frozenset({"accepted", "review", "decision"}),
            None,
            escalated_in_queue=True,
        ),
        Action(
            "resumed",
            _l("Resume the clock"),
            "case.pause",
            frozenset({"accepted", "review", "decision"}),
            None,
            escalated_in_queue=True,
        ),
        Action(
            "extended",
            _l("Extend the time limit"),
            "case.extend",
            frozenset({"accepted", "review", "decision"}),
            None,
            escalated_in_queue=True,
        ),
        Action("delivered", _l("Deliver"), "case.deliver", frozenset({"concluded"}), "delivered"),
        Action("handed_over", _l("Hand over"), "case.handover", OPEN | {"concluded"}, None),
        Action("flagged", _l("Change flags"), "case.register", OPEN, None),
    )
}

# Timeline actions that are not user transitions (shown on the timeline with these labels).
EVENT_LABELS = {
    "registered": _l("Registered"),
    "concluded": _l("Concluded"),
    "escalated": _l("Sent to the parent's queue"),
    "rated": _l("Rated by the applicant"),
    "file": _l("Material uploaded"),
    "recomputed": _l("Deadlines recomputed"),
    **{name: a.label for name, a in ACTIONS.items()},
}

PAUSE_REASONS = {
    "hearing": _l("Hearing (听证)"),
    "testing": _l("Testing or inspection (检验检测)"),
    "expert": _l("Expert review (专家评审)"),
    "supplement": _l("Waiting for the applicant to correct materials (补正)"),
    "other_law": _l("Other time the law excludes"),
}

CHANNELS = {
    "window": _l("At the window"),
    "online": _l("Online"),
    "phone": _l("By phone"),
    "regiment": _l("At the regiment"),
}
DELIVERY_METHODS = {
    "window": _l("Collected at the window"),
    "post": _l("By post"),
    "electronic": _l("Electronic delivery"),
}
APPLICANT_KINDS = {"person": _l("Person"), "organisation": _l("Organisation")}
ID_KINDS = {
    "resident_id": _l("Resident ID number"),
    "credit_code": _l("Unified social credit code"),
}
DECISIONS = {"approved": _l("Approved (准予)"), "denied": _l("Denied (不予)")}
LIGHTS = {"green": _l("Green"), "yellow": _l("Yellow"), "red": _l("Red")}


class WorkflowError(Exception):
    """An action refused for a reason the user can fix (shown in the form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
