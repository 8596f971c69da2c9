"""Monthly feedback (当月反馈), quarterly summary (季度通报) and year-end view (年终考评),
generated from the work logs; the same aggregation feeds the assessment variables.

Per window and per person: days logged against working days, attendance counts, discipline
notes, cases handled on the platform and offline, platform usage.  Definitions:

- cases on the platform = cases registered at the window that day (recounted from the case
  records at each save of the log); all cases handled = on the platform + offline;
  **platform usage** = on the platform ÷ all handled (per cent, one decimal);
- **attendance rate** = person-days present or on a business trip ÷ person-days logged;
- **discipline notes** = logs with a discipline note + personal notes on the staff lines
  (a person's count is their own notes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.web.i18n import gettext as _

ATTENDANCE = ("present", "late", "leave", "absent", "trip")
PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """Per cent with one decimal, half up (as app.metrics rounds its rates)."""
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year
    text: str  # yyyy-mm | yyyy-Qn | yyyy
    first: date
    last: date

    @property
    def label(self) -> str:
        year = self.first.year
        if self.kind == "month":
            return _("%(year)s-%(month)02d monthly feedback", year=year, month=self.first.month)
        if self.kind == "quarter":
            return _("%(year)s Q%(n)s quarterly summary", year=year, n=(self.first.month + 2) // 3)
        return _("%(year)s year-end review", year=year)

    def months(self) -> list[int]:
        return [self.first.year * 100 + m for m in range(self.first.month, self.last.month + 1)]


def parse_period(text: str) -> Period | None:
    """``yyyy-mm``, ``yyyy-Qn`` or ``yyyy``; None when it is none of them."""
    found = PERIOD.match(text.strip())
    if not found:
        return None
    year = int(found.group(1))
    if not 2000 <= year <= 2100:
        return None
    if found.group(2):
        first = date(year, int(found.group(2)), 1)
        return Period("month", text.strip(), first, _month_end(first))
    if found.group(3):
        q = int(found.group(3))
        first = date(year, 3 * q - 2, 1)
        return Period("quarter", text.strip(), first, _month_end(date(year, 3 * q, 1)))
    return Period("year", text.strip(), date(year, 1, 1), date(year, 12, 31))


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def month_period(month: int) -> Period:
    year, mon = divmod(month, 100)
    first = date(year, mon, 1)
    return Period("month", f"{year}-{mon:02d}", first, _month_end(first))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass
class Tally:
    """What the logs of one window (or one person, or a whole centre) add up to."""

    days_logged: int = 0
    reviewed: int = 0
    attendance: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ATTENDANCE, 0))
    discipline_notes: int = 0
    registered: int = 0
    accepted: int = 0
    concluded: int = 0
    offline: int = 0

    @property
    def person_days(self) -> int:
        return sum(self.attendance.values())

    @property
    def handled(self) -> int:
        return self.registered + self.offline

    @property
    def platform_usage(self) -> Decimal | None:
        return percent(self.registered, self.handled)

    @property
    def attendance_rate(self) -> Decimal | None:
        return percent(self.attendance["present"] + self.attendance["trip"], self.person_days)

    def add_log(self, log: Mapping[str, Any]) -> None:
        self.days_logged += 1
        self.reviewed += 1 if log.get("reviewed_at") else 0
        for name in ("registered", "accepted", "concluded", "offline"):
            setattr(self, name, getattr(self, name) + int(log.get(name) or 0))
        self.discipline_notes += 1 if (log.get("discipline_notes") or "").strip() else 0
        for entry in log.get("staff") or []:
            self.add_entry(entry)

    def add_entry(self, entry: Mapping[str, Any]) -> None:
        status = entry.get("attendance")
        if status in self.attendance:
            self.attendance[status] += 1
        self.discipline_notes += 1 if (entry.get("note") or "").strip() else 0


@dataclass
class PersonTally(Tally):
    name: str = ""
    posts: set[str] = field(default_factory=set)
    days: set[Any] = field(default_factory=set)  # a person on posts at two windows: one day


@dataclass(frozen=True)
class Summary:
    period: Period
    working_days: int  # of the period up to today
    windows: list[tuple[dict[str, Any], Tally]]
    people: list[PersonTally]
    centre: Tally


def summarise(
    period: Period,
    working: Iterable[date],
    windows: list[dict[str, Any]],
    logs: Sequence[Mapping[str, Any]],
) -> Summary:
    """Aggregate ``logs`` per window (every window listed, logged or not) and per person."""
    working_days = set(working)
    by_window: dict[int, Tally] = {int(w["id"]): Tally() for w in windows}
    people: dict[Any, PersonTally] = {}
    centre = Tally()
    for log in logs:
        tally = by_window.setdefault(int(log["window_id"]), Tally())
        tally.add_log(log)
        centre.add_log(log)
        for entry in log.get("staff") or []:
            key = entry.get("user_id") or f"name:{entry.get('name', '')}"
            person = people.setdefault(key, PersonTally(name=str(entry.get("name", ""))))
            person.days.add(log.get("day"))
            person.days_logged = len(person.days)
            person.add_entry(entry)
            if entry.get("post"):
                person.posts.add(str(entry["post"]))
    known = {int(w["id"]): w for w in windows}
    rows = [(known[i], by_window[i]) for i in known]
    rows += [
        ({"id": i, "code": "", "name": _("Window %(id)s (removed)", id=i)}, t)
        for i, t in by_window.items()
        if i not in known
    ]
    return Summary(
        period,
        len(working_days),
        rows,
        sorted(people.values(), key=lambda p: p.name),
        centre,
    )
