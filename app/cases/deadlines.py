"""A case's due dates and deadline light, computed from its timeline (pure: no database).

DESIGN.md, "Deadlines": the clock starts at acceptance (the day of acceptance does not
count); limits are in half-days (service sessions); time paused for a hearing, testing,
expert review or a supplement does not count (Administrative Licensing Law Art. 45); an
approved extension adds to both the promised and the legal limit (Art. 42: at most 10
working days, 15 for joint handling).  The light follows the promised date:

- green  until ``yellow_at`` (the end of the session ``2 × N`` sessions before the due date),
- yellow from ``yellow_at``,
- red    from ``promised_due_at`` (a case falls due at the end of its last session),

and exceeding ``legal_due_at`` is the separate ``legal_exceeded`` flag.  While a case is
paused its light stays as it was when the pause began and nothing changes until it
resumes.  ``light_changes_at`` is the next moment the light or the flag changes by time
alone; the light sweep recomputes the cases whose moment has come.

Every stored column is a function of (limits, timeline, calendar, now, N): a test
recomputes each seeded case and compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.calendar.workdays import TenantCalendar

DEFAULT_YELLOW_DAYS = 2
# Administrative Licensing Law Art. 42: extension ceilings in half-days.
EXTENSION_CAP_HALVES = {"joint": 30}
DEFAULT_EXTENSION_CAP_HALVES = 20

CLOCK_START = "accepted"
PAUSE, RESUME, EXTEND = "paused", "resumed", "extended"
CLOSING = frozenset({"concluded", "returned"})


def extension_cap(kind: str) -> int:
    return EXTENSION_CAP_HALVES.get(kind, DEFAULT_EXTENSION_CAP_HALVES)


@dataclass(frozen=True)
class Deadline:
    promised_due_at: datetime | None
    legal_due_at: datetime | None
    due_provisional: bool  # the promised date counted plain weekdays (year not published)
    paused: bool
    paused_halves: int
    extended_halves: int
    light: str  # green | yellow | red | '' (no running clock)
    legal_exceeded: bool
    light_changes_at: datetime | None
    on_time: bool | None  # set once concluded
    yellow_at: datetime | None = None
    legal_provisional: bool = False  # the same for the legal date

    def columns(self) -> dict[str, Any]:
        """The stored columns of ``service_case``."""
        return {
            "promised_due_at": self.promised_due_at,
            "legal_due_at": self.legal_due_at,
            "due_provisional": self.due_provisional,
            "legal_provisional": self.legal_provisional,
            "paused": self.paused,
            "extended_halves": self.extended_halves,
            "light": self.light,
            "legal_exceeded": self.legal_exceeded,
            "light_changes_at": self.light_changes_at,
            "on_time": self.on_time,
        }


NO_CLOCK = Deadline(None, None, False, False, 0, 0, "", False, None, None)


def _events(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(events, key=lambda e: (e["at"], e.get("id") or 0))


def compute(
    promised_halves: int,
    legal_halves: int,
    events: Iterable[Mapping[str, Any]],
    calendar: TenantCalendar,
    now: datetime,
    yellow_days: int = DEFAULT_YELLOW_DAYS,
) -> Deadline:
    """The deadline columns of a case at ``now`` from its limits and timeline.

    ``events`` are timeline rows with ``action``, ``at`` and ``data`` (``halves`` for an
    extension).  Only the actions named above matter; others are ignored.
    """
    accepted_at: datetime | None = None
    paused_since: datetime | None = None
    paused_halves = extension = 0
    closed_at: datetime | None = None
    closing = ""
    for event in _events(events):
        action, at = event["action"], event["at"]
        if action == CLOCK_START and accepted_at is None:
            accepted_at = at
        elif accepted_at is None or closed_at is not None:
            continue
        elif action == PAUSE and paused_since is None:
            paused_since = at
        elif action == RESUME and paused_since is not None:
            paused_halves += max(0, calendar.sessions_left(paused_since, at))
            paused_since = None
        elif action == EXTEND:
            extension += int((event.get("data") or {}).get("halves", 0))
        elif action in CLOSING:
            closed_at, closing = at, action
    if accepted_at is None:
        return NO_CLOCK

    promised = calendar.due_at(accepted_at, promised_halves + paused_halves + extension)
    legal = calendar.due_at(accepted_at, legal_halves + paused_halves + extension)
    margin = max(0, promised_halves + paused_halves + extension - 2 * yellow_days)
    yellow_at = calendar.due_at(accepted_at, margin).at

    def light_at(moment: datetime) -> str:
        if moment >= promised.at:
            return "red"
        if moment >= yellow_at:
            return "yellow"
        return "green"

    base: dict[str, Any] = {
        "promised_due_at": promised.at,
        "legal_due_at": legal.at,
        "due_provisional": promised.provisional,
        "legal_provisional": legal.provisional,
        "paused_halves": paused_halves,
        "extended_halves": extension,
        "yellow_at": yellow_at,
    }
    if closed_at is not None:
        on_time = closed_at <= promised.at if closing == "concluded" else None
        # A pause still open at conclusion ends there.
        return Deadline(
            paused=False,
            light="",
            legal_exceeded=closed_at > legal.at,
            light_changes_at=None,
            on_time=on_time,
            **base,
        )
    if paused_since is not None:
        return Deadline(
            paused=True,
            light=light_at(paused_since),
            legal_exceeded=paused_since >= legal.at,
            light_changes_at=None,
            on_time=None,
            **base,
        )
    upcoming = [t for t in (yellow_at, promised.at, legal.at) if t > now]
    return Deadline(
        paused=False,
        light=light_at(now),
        legal_exceeded=now >= legal.at,
        light_changes_at=min(upcoming) if upcoming else None,
        on_time=None,
        **base,
    )
