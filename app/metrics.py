"""The one definition of every supervision number (DESIGN.md, "Metrics").

Monthly figures of a centre (a local Asia/Shanghai month), each counted by the month of
its own moment:

==============  ==============================================================
registered      cases registered in the month (and by kind: immediate, promised,
                joint, escalated — 即办/承诺/联办/上报件; urgent — 急办件;
                supplemented — given a one-time notice, 补办件)
accepted        cases accepted (受理) in the month
notices         one-time notices issued in the month
refused         not accepted (不予受理) in the month
returned        returned (退回件) in the month
concluded       concluded (办结) in the month; ``on_time`` by the promised due date,
                ``late`` after it; ``unrated`` = concluded and not (yet) rated
rated           ratings given in the month, by level 5 非常满意 … 1 非常不满意
carried_over    cases open when the month began: registered before it, neither
                concluded nor closed (not accepted, returned) before it — counted
                on demand (``cases.queries.stats.carried_over``), not stored
==============  ==============================================================

Rates derive from them and nowhere else:

- 好评 = 非常满意 + 满意 + 基本满意 (levels 5, 4, 3); 好评率 = 好评 ÷ rated;
- 未评率 = unrated ÷ concluded;
- 按时办结率 (on-time rate) = on_time ÷ concluded.

Supervision (电子监察, app.supervision.figures) adds, per centre and month:

- 报送及时 (report timeliness): the month's report counts as *on time* when every
  submission of it was first submitted by its period's due day (``Submission.on_time``),
  *late* when one was not, and also late (``missing``) when a period the centre files is
  past its due day and nothing was submitted; before the due day it is undecided (None).
  报送及时率 = on-time reports ÷ reports decided (:func:`report_rate`).
- the light counts (overdue = open and red or past the legal limit; due soon = open and
  yellow) are the stored case columns now, and the latest inspection score (得分率) is the
  percent of the latest submitted or acknowledged inspection up to the month's end.
- 综合得分 (the league composite, :func:`league_score`): the weighted mean of the parts
  present — on-time rate ×0.3, 好评率 ×0.3, report timeliness (100 on time, 0 late)
  ×0.2, inspection score ×0.2 (weights of missing parts are left out and the rest
  re-weighted; none present = 0) — minus 2 points per overdue case and 1 per overdue
  rectification, one decimal.  Ranked by score (highest first), ties by the centre's
  slug.

The figures are stored per centre and month (``case_month_stat``) and kept current by
the ``cases.stats`` sweep: every timeline event marks the months it can change (its own,
the case's registration and conclusion months) and the sweep recomputes those within a
minute.  Reports (pre-fill) and dashboards read the stored figures through this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from app.calendar.workdays import SHANGHAI

KINDS = ("immediate", "promised", "joint", "escalated")
LEVELS = (5, 4, 3, 2, 1)
GOOD_LEVELS = (5, 4, 3)
COUNTS = (
    "registered",
    *KINDS,
    "urgent",
    "supplemented",
    "accepted",
    "notices",
    "refused",
    "returned",
    "concluded",
    "on_time",
    "late",
    "unrated",
    "rated",
    *(f"level_{n}" for n in LEVELS),
)


def month_key(moment: datetime | date) -> int:
    """``yyyymm`` of a moment's local (Asia/Shanghai) month, or of a date."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(SHANGHAI).date()
    return moment.year * 100 + moment.month


def month_range(month: int) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of a local month ``yyyymm``."""
    year, mon = divmod(month, 100)
    start = datetime(year, mon, 1, tzinfo=SHANGHAI)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)


def months_between(first: int, last: int) -> list[int]:
    out, current = [], first
    while current <= last:
        out.append(current)
        year, mon = divmod(current, 100)
        current = (year + 1) * 100 + 1 if mon == 12 else current + 1
    return out


def _rate(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal, or None when there is nothing to divide."""
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class Figures:
    """Counts of one or more centre-months, with the derived rates."""

    counts: Mapping[str, int]

    def __getitem__(self, name: str) -> int:
        return int(self.counts.get(name, 0))

    @property
    def good(self) -> int:
        """好评: 非常满意 + 满意 + 基本满意."""
        return sum(self[f"level_{n}"] for n in GOOD_LEVELS)

    @property
    def good_rate(self) -> Decimal | None:
        """好评率 = 好评 ÷ rated."""
        return _rate(self.good, self["rated"])

    @property
    def unrated_rate(self) -> Decimal | None:
        """未评率 = concluded and unrated ÷ concluded."""
        return _rate(self["unrated"], self["concluded"])

    @property
    def on_time_rate(self) -> Decimal | None:
        """按时办结率 = concluded by the promised due date ÷ concluded."""
        return _rate(self["on_time"], self["concluded"])


def total(rows: Iterable[Mapping[str, int]]) -> Figures:
    """Sum stored rows (centre-months) into one set of figures."""
    sums = dict.fromkeys(COUNTS, 0)
    for row in rows:
        for name in COUNTS:
            sums[name] += int(row.get(name) or 0)
    return Figures(sums)


REPORT_STATES = ("none", "draft", "missing", "on_time", "late", "returned", "approved")
FILED = ("submitted", "endorsed", "approved", "returned")


def report_timeliness(
    submissions: Iterable[tuple[str, bool | None]], due_days: Iterable[date], today: date
) -> tuple[bool | None, str]:
    """报送及时 of one centre-month: (on time?, state) from its submissions
    ``(status, on_time)`` and the due days of the periods it files (see above)."""
    subs = list(submissions)
    decided = [bool(on_time) for status, on_time in subs if on_time is not None]
    statuses = {status for status, _on_time in subs}
    if decided:
        on_time = all(decided)
        if "returned" in statuses:
            return on_time, "returned"
        if statuses == {"approved"}:
            return on_time, "approved"
        return on_time, "on_time" if on_time else "late"
    overdue = any(day < today for day in due_days)
    if overdue:
        return False, "draft" if statuses else "missing"
    return None, "draft" if statuses else "none"


def report_rate(values: Iterable[bool | None]) -> Decimal | None:
    """报送及时率 = reports on time ÷ reports decided (undecided ones left out)."""
    decided = [v for v in values if v is not None]
    return _rate(sum(1 for v in decided if v), len(decided))


LEAGUE_WEIGHTS = (
    ("on_time_rate", Decimal("0.3")),
    ("good_rate", Decimal("0.3")),
    ("report", Decimal("0.2")),
    ("inspection_percent", Decimal("0.2")),
)
OVERDUE_CASE_PENALTY = Decimal(2)
OVERDUE_RECTIFICATION_PENALTY = Decimal(1)


def league_score(
    *,
    on_time_rate: Decimal | None,
    good_rate: Decimal | None,
    report_on_time: bool | None,
    inspection_percent: Decimal | None,
    overdue: int,
    overdue_rectifications: int,
) -> Decimal:
    """综合得分 of one centre-month (see above)."""
    parts = {
        "on_time_rate": on_time_rate,
        "good_rate": good_rate,
        "report": None if report_on_time is None else Decimal(100 if report_on_time else 0),
        "inspection_percent": inspection_percent,
    }
    weighted = Decimal(0)
    weights = Decimal(0)
    for name, weight in LEAGUE_WEIGHTS:
        value = parts[name]
        if value is not None:
            weighted += Decimal(value) * weight
            weights += weight
    base = weighted / weights if weights else Decimal(0)
    score = (
        base
        - OVERDUE_CASE_PENALTY * overdue
        - OVERDUE_RECTIFICATION_PENALTY * overdue_rectifications
    )
    return score.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
