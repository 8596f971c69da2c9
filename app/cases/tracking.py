"""The public lookup (/t/<slug>/track): number + lookup code → what the applicant may see.

Rules:

- A wrong code and an unknown number are the same answer (:data:`NOT_FOUND`): nothing tells
  a stranger which case numbers exist.
- Failures are counted in the database (``track_attempt``; several web processes share
  them) per address and per case number at one centre.  Past :data:`MAX_PER_ADDRESS` or
  :data:`MAX_PER_NUMBER` failures within :data:`WINDOW` every lookup is refused
  (:class:`TooMany`, HTTP 429) — even with the right code — until the window has passed.
- The public view (:func:`public_view`) holds nothing personal: the applicant's name only
  masked, no ID number, no phone, no staff names.

The public may write only two things, both through :func:`writer_scope` (a narrow scope on
the one centre, user ``None``, role ``public``): the attempt rows here and a rating
(:mod:`app.cases.ratings`).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app import db
from app.cases import identity, workflow
from app.cases.queries import core
from app.cases.queries import public as queries
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import gettext as _

WINDOW = timedelta(minutes=15)
MAX_PER_ADDRESS = 10
MAX_PER_NUMBER = 5
KEEP = timedelta(days=1)  # attempts older than this are purged
NUMBER_MAX = 40
CODE = re.compile(r"^\d{6}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def writer_scope(tree: Tree, tenant_id: int) -> TenantScope:
    """The public's narrow writer: the one centre's rows (attempts, a rating), nothing else.

    Used only by this module and :mod:`app.cases.ratings`; never handed to a view.
    """
    own = frozenset({tenant_id})
    return TenantScope(
        tenant_id=tenant_id,
        user_id=None,
        roles=frozenset({"public"}),
        read_ids=own,
        write_ids=own,
        shared_ids=frozenset({tenant_id, *tree.ancestors(tenant_id)}),
        supervise_ids=frozenset(),
    )


class TooMany(Exception):
    """Too many failed lookups from this address or for this number: try later (429)."""

    def __init__(self) -> None:
        minutes = int(WINDOW.total_seconds() // 60)
        self.message = _(
            "Too many unsuccessful attempts. For your security the lookup is paused: "
            "try again in %(n)d minutes.",
            n=minutes,
        )
        super().__init__(self.message)


def not_found_message() -> str:
    return _(
        "No case matches this number and lookup code. Check both on your receipt "
        "(the code has six digits)."
    )


def normalise_number(value: str) -> str:
    """Without spaces (and NULs, which PostgreSQL cannot store in the attempt row)."""
    return re.sub(r"[\s\x00]+", "", value or "").upper()


def normalise_code(value: str) -> str:
    return re.sub(r"[\s\x00]+", "", value or "")


async def verify(
    tree: Tree, tenant_id: int, number: str, code: str, ip: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The case of ``number`` at this centre if ``code`` opens it, else ``None``.

    Every call is one attempt, recorded in the same transaction that checked the limits;
    over a limit it raises :class:`TooMany` without looking at the code.
    """
    now = now or utcnow()
    number = normalise_number(number)[:NUMBER_MAX]
    code = normalise_code(code)
    scope = writer_scope(tree, tenant_id)
    since = now - WINDOW
    async with db.write(scope):
        by_address = await queries.failures_since(scope, tenant_id, since, ip=ip)
        by_number = await queries.failures_since(scope, tenant_id, since, number=number)
        if by_address >= MAX_PER_ADDRESS or by_number >= MAX_PER_NUMBER:
            raise TooMany()
        case = await core.case_by_number(scope, tenant_id, number) if number else None
        expected = case["lookup_code"] if case is not None else "000000-no-case"
        # Compared in constant time whether or not the number exists.
        ok = bool(CODE.match(code)) and hmac.compare_digest(expected.encode(), code.encode())
        ok = ok and case is not None
        await queries.purge_attempts(scope, tenant_id, now - KEEP)
        await queries.insert_attempt(scope, tenant_id, ip, number, ok, now)
    return case if ok else None


# --- what the applicant sees ------------------------------------------------------------


@dataclass
class Step:
    at: datetime
    label: str
    detail: str = ""
    kind: str = ""  # "warn" for a pause, refusal or return


@dataclass
class PublicView:
    number: str
    item_name: str
    centre: str
    applicant: str  # masked
    state: str
    state_label: str
    registered_at: datetime
    concluded_at: datetime | None
    promised_due_at: datetime | None
    due_provisional: bool
    paused: bool
    pause_reason: str
    pause_note: str
    extended_days: str  # '' when not extended
    extension_reason: str
    closed_reason: str
    missing: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    rated: bool = False
    may_rate: bool = False


# Timeline actions the applicant sees; the others (hand-over, flags, uploads, sign-offs,
# recomputations) are internal.
PUBLIC_ACTIONS = (
    "registered",
    "notice",
    "supplemented",
    "accepted",
    "refused",
    "review",
    "submitted",
    "decided",
    "concluded",
    "delivered",
    "returned",
    "paused",
    "resumed",
    "extended",
    "rated",
)
RATEABLE = frozenset({"concluded", "delivered", "refused", "returned"})


def _step(event: dict[str, Any]) -> Step | None:
    action = event["action"]
    if action not in PUBLIC_ACTIONS:
        return None
    data = event.get("data") or {}
    note = (event.get("note") or "").strip()
    label = str(workflow.EVENT_LABELS.get(action, action))
    detail, kind = "", ""
    if action == "registered":
        label = _("Application registered")
    elif action == "notice":
        label = _("One-time notice issued")
        missing = int(data.get("missing") or 0)
        if missing:
            detail = _("%(n)d material(s) to supplement or correct.", n=missing)
        kind = "warn"
    elif action == "supplemented":
        label = _("Materials supplemented")
    elif action == "accepted":
        label = _("Application accepted")
    elif action == "refused":
        label = _("Not accepted")
        detail, kind = note, "warn"
    elif action == "review":
        label = _("Review started")
    elif action == "submitted":
        label = _("Submitted for decision")
    elif action == "decided":
        decision = data.get("decision", "")
        label = _("Decision: %(decision)s", decision=str(workflow.DECISIONS.get(decision, "")))
        if decision == "denied":
            detail, kind = note, "warn"
    elif action == "concluded":
        label = _("Concluded")
    elif action == "delivered":
        method = workflow.DELIVERY_METHODS.get(data.get("method", ""), "")
        label = _("Result delivered")
        detail = str(method)
    elif action == "returned":
        label = _("Application returned")
        detail, kind = note, "warn"
    elif action == "paused":
        reason = workflow.PAUSE_REASONS.get(data.get("reason", ""), "")
        label = _("Clock stopped: %(reason)s", reason=str(reason))
        detail, kind = note, "warn"
    elif action == "resumed":
        label = _("Clock running again")
    elif action == "extended":
        halves = int(data.get("halves") or 0)
        label = _("Time limit extended by %(days)s working days", days=_days(halves))
        detail = note
    elif action == "rated":
        label = _("Rated by the applicant")
    return Step(event["at"], label, detail, kind)


def _days(halves: int) -> str:
    return str(halves // 2) if halves % 2 == 0 else f"{halves / 2:.1f}"


async def public_view(scope: TenantScope, case: dict[str, Any]) -> PublicView:
    """Reduce a case and its timeline to what the applicant may see."""
    events = await core.events(scope, case["id"])
    steps = [s for s in (_step(e) for e in events) if s is not None]
    pause_reason = pause_note = extension_reason = ""
    for event in events:
        if event["action"] == "paused":
            reason = (event.get("data") or {}).get("reason", "")
            pause_reason = str(workflow.PAUSE_REASONS.get(reason, ""))
            pause_note = event.get("note") or ""
        elif event["action"] == "extended":
            extension_reason = event.get("note") or ""
    missing: list[str] = []
    if case["state"] == "supplement":
        missing = [
            m["name"]
            for m in await core.materials(scope, case["id"])
            if m["status"] in ("missing", "defective")
        ]
    return PublicView(
        number=case["number"],
        item_name=case["item_name"],
        centre=case["tenant_name"],
        # Masked for organisations too: the page is open to whoever holds the receipt.
        applicant=identity.mask_name(case["applicant_name"]),
        state=case["state"],
        state_label=str(workflow.STATES.get(case["state"], case["state"])),
        registered_at=case["registered_at"],
        concluded_at=case["concluded_at"],
        promised_due_at=case["promised_due_at"],
        due_provisional=bool(case["due_provisional"]),
        paused=bool(case["paused"]),
        pause_reason=pause_reason if case["paused"] else "",
        pause_note=pause_note if case["paused"] else "",
        extended_days=_days(case["extended_halves"]) if case["extended_halves"] else "",
        extension_reason=extension_reason if case["extended_halves"] else "",
        closed_reason=case["closed_reason"] if case["state"] in ("refused", "returned") else "",
        missing=missing,
        steps=steps,
        rated=bool(case["rated"]),
        may_rate=case["state"] in RATEABLE and not case["rated"],
    )
