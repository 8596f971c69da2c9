"""Working days in half-day steps: the pure core (no database; fed by ``services.load``).

Definitions (DESIGN.md, "Deadlines"), all in Asia/Shanghai local time:

- A **working day** is, in order of precedence: a regional day of the tenant's division
  (``off`` or ``work``); else, in a year with *published* national data, a national day
  (``off``, or ``work`` for a make-up working day 调休上班); else Monday to Friday.
- A year without published national data counts plain weekdays (plus regional days) and
  every answer touching it is **provisional**.
- A working day has two **sessions** (half-days): morning and afternoon, from the tenant's
  seasonal hours (the season in force is the one whose ``from`` (MM-DD) came last).
- ``due_at(received, n)``: the day of receipt does not count; counting starts with the
  first session of the next working day; the case falls due at the **end** of the n-th
  session.  ``n = 0`` means due at receipt.
- ``between(received, moment)``: the number of sessions, on working days after the local
  day of ``received``, that have ended by ``moment`` (end ≤ moment).  So
  ``between(r, due_at(r, n).at) == n`` and ``due_at(r, n).at <= m ⇔ between(r, m) >= n``.
- ``sessions_left(moment, due)``: the sessions that end in ``(moment, due]`` (today's
  included); negative — the sessions ended in ``(due, moment]`` — once ``due`` has passed.
- ``in_service(moment)``: inside a session (start ≤ moment < end) of a working day;
  ``next_session_start(moment)``: the first session start at or after ``moment``.

Moments are aware datetimes; answers are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFF, WORK = "off", "work"
# No answer looks further than this many days ahead (ten years of calendar).
HORIZON_DAYS = 3700


class Rule(NamedTuple):
    kind: str  # "off" | "work"
    name: str


@dataclass(frozen=True)
class Season:
    starts: tuple[int, int]  # (month, day) the season starts
    sessions: tuple[tuple[time, time], ...]  # morning, afternoon: (start, end) local


def _time(value: Any) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Hours:
    """A tenant's seasonal service hours (``tenant.hours`` JSON), seasons sorted by start."""

    seasons: tuple[Season, ...]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Hours:
        """``{"summer": {"from": "05-01", "morning": [..], "afternoon": [..]}, "winter": …}``."""
        seasons = []
        for spec in data.values():
            month, day = (int(p) for p in str(spec["from"]).split("-"))
            sessions = tuple(
                (_time(spec[part][0]), _time(spec[part][1])) for part in ("morning", "afternoon")
            )
            previous = time(0, 0)
            for start, end in sessions:
                if not previous <= start < end:
                    raise ValueError(f"sessions must be in order and not overlap: {spec}")
                previous = end
            seasons.append(Season((month, day), sessions))
        if not seasons:
            raise ValueError("no service hours")
        starts = [s.starts for s in seasons]
        if len(set(starts)) != len(starts):
            raise ValueError("two seasons start on the same day")
        return cls(tuple(sorted(seasons, key=lambda s: s.starts)))

    def season(self, day: date) -> Season:
        key = (day.month, day.day)
        current = self.seasons[-1]  # before the first start: last year's last season
        for season in self.seasons:
            if season.starts <= key:
                current = season
        return current


@dataclass(frozen=True)
class Days:
    """The day rules: published years, national days, and the tenant's regional days."""

    published: frozenset[int] = frozenset()
    national: Mapping[date, Rule] = field(default_factory=dict)
    regional: Mapping[date, Rule] = field(default_factory=dict)

    def is_provisional(self, day: date) -> bool:
        return day.year not in self.published

    def rule(self, day: date) -> tuple[Rule | None, str]:
        """The rule deciding ``day`` and where it comes from: regional, national or none."""
        if day in self.regional:
            return self.regional[day], "regional"
        if day.year in self.published and day in self.national:
            return self.national[day], "national"
        return None, ""

    def is_working_day(self, day: date) -> bool:
        rule, _source = self.rule(day)
        if rule is not None:
            return rule.kind == WORK
        return day.weekday() < 5


@dataclass(frozen=True)
class Due:
    at: datetime  # aware, UTC
    provisional: bool  # a year touched has no published national data


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moments must be timezone-aware")
    return moment


def local_day(moment: datetime) -> date:
    return _aware(moment).astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class TenantCalendar:
    """Everything the deadline arithmetic needs for one tenant."""

    hours: Hours
    days: Days

    # --- the building block: sessions of one day ---------------------------------------

    def sessions(self, day: date) -> list[tuple[datetime, datetime]]:
        """The (start, end) UTC moments of ``day``'s sessions; none on a day off."""
        if not self.days.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, SHANGHAI).astimezone(UTC),
                datetime.combine(day, end, SHANGHAI).astimezone(UTC),
            )
            for start, end in self.hours.season(day).sessions
        ]

    def _days_from(self, first: date) -> Iterator[date]:
        for offset in range(HORIZON_DAYS):
            yield first + timedelta(days=offset)
        raise ValueError(f"no answer within {HORIZON_DAYS} days of {first}")

    def is_provisional(self, day: date) -> bool:
        return self.days.is_provisional(day)

    def _provisional(self, first: date, last: date) -> bool:
        return any(year not in self.days.published for year in range(first.year, last.year + 1))

    # --- deadlines -----------------------------------------------------------------------

    def due_at(self, received_at: datetime, half_days: int) -> Due:
        """The end of the ``half_days``-th session after the day of receipt."""
        if half_days < 0:
            raise ValueError("half_days must be 0 or more")
        received_day = local_day(received_at)
        if half_days == 0:
            at = received_at.astimezone(UTC)
            return Due(at, self._provisional(received_day, received_day))
        counted = 0
        for day in self._days_from(received_day + timedelta(days=1)):
            for _start, end in self.sessions(day):
                counted += 1
                if counted == half_days:
                    return Due(end, self._provisional(received_day, day))
        raise AssertionError("unreachable")  # pragma: no cover - _days_from raises first

    def between(self, received_at: datetime, moment: datetime) -> int:
        """Sessions on working days after the day of ``received_at`` ended by ``moment``."""
        first = local_day(received_at) + timedelta(days=1)
        last = local_day(moment)
        count = 0
        day = first
        while day <= last:
            count += sum(1 for _start, end in self.sessions(day) if end <= moment)
            day += timedelta(days=1)
        return count

    def sessions_left(self, moment: datetime, due: datetime) -> int:
        """Sessions ending in ``(moment, due]``; negative (ended in ``(due, moment]``) if late."""
        if due < moment:
            return -self.sessions_left(due, moment)
        count = 0
        day, last = local_day(moment), local_day(due)
        while day <= last:
            count += sum(1 for _start, end in self.sessions(day) if moment < end <= due)
            day += timedelta(days=1)
        return count

    # --- service hours (notifications deliver non-urgent messages inside them) -----------

    def in_service(self, moment: datetime) -> bool:
        return any(start <= moment < end for start, end in self.sessions(local_day(moment)))

    def next_session_start(self, moment: datetime) -> datetime:
        """The first session start at or after ``moment`` (UTC)."""
        for day in self._days_from(local_day(moment)):
            for start, _end in self.sessions(day):
                if start >= moment:
                    return start
        raise AssertionError("unreachable")  # pragma: no cover - _days_from raises first


# --- the effective calendar of a year, as runs of exceptional days (for the pages) --------


@dataclass(frozen=True)
class Run:
    """Consecutive days sharing one rule: e.g. 春节 02-15 … 02-23, off, national."""

    first: date
    last: date
    kind: str
    name: str
    source: str  # "national" | "regional"

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1


def group(items: Iterable[tuple[date, Rule, str]]) -> list[Run]:
    """Consecutive (day, rule, source) items with the same rule and source, as runs."""
    runs: list[Run] = []
    for day, rule, source in sorted(items, key=lambda item: item[0]):
        last = runs[-1] if runs else None
        if (
            last is not None
            and last.last + timedelta(days=1) == day
            and (last.kind, last.name, last.source) == (rule.kind, rule.name, source)
        ):
            runs[-1] = Run(last.first, day, rule.kind, rule.name, source)
        else:
            runs.append(Run(day, day, rule.kind, rule.name, source))
    return runs


def exceptions(days: Days, year: int) -> list[Run]:
    """The days of ``year`` that a rule decides (national if published, regional), as runs."""
    decided = []
    for day in {d for d in (*days.national, *days.regional) if d.year == year}:
        rule, source = days.rule(day)
        if rule is not None:
            decided.append((day, rule, source))
    return group(decided)
