"""Property tests of the pure core (hypothesis): random moments, counts, hours, regional days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar.workdays import Rule, TenantCalendar, local_day
from tests.calendar.helpers import calendar

# 2025 and 2026 are published, 2027 and 2028 are not: both kinds of year are exercised.
moments = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
half_days = st.integers(min_value=0, max_value=150)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))
regional = st.dictionaries(
    days,
    st.sampled_from([Rule("off", "肉孜节"), Rule("work", "调休上班"), Rule("off", "古尔邦节")]),
    max_size=25,
)


@st.composite
def hours(draw: st.DrawFn) -> dict[str, dict[str, object]]:
    """Two seasons with random start days and random, ordered, non-overlapping sessions."""

    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    out: dict[str, dict[str, object]] = {}
    starts = draw(
        st.lists(
            st.tuples(st.integers(1, 12), st.integers(1, 28)), min_size=2, max_size=2, unique=True
        )
    )
    for name, (month, day) in zip(("summer", "winter"), starts, strict=True):
        a, b, c, d = sorted(
            draw(st.lists(st.integers(0, 23 * 60 + 59), min_size=4, max_size=4, unique=True))
        )
        out[name] = {
            "from": f"{month:02d}-{day:02d}",
            "morning": [hhmm(a), hhmm(b)],
            "afternoon": [hhmm(c), hhmm(d)],
        }
    return out


calendars = st.builds(calendar, regional, st.one_of(st.none(), hours()))
FAST = settings(max_examples=150, deadline=None)


def session_ends(cal: TenantCalendar, moment: datetime) -> set[datetime]:
    return {end for _start, end in cal.sessions(local_day(moment))}


@FAST
@given(cal=calendars, received=moments, n=half_days)
def test_adding_then_counting_round_trips(cal: TenantCalendar, received: datetime, n: int) -> None:
    due = cal.due_at(received, n)
    assert cal.between(received, due.at) == n


@FAST
@given(cal=calendars, received=moments, n=st.integers(min_value=1, max_value=150))
def test_due_moments_land_on_a_session_end_of_a_later_working_day(
    cal: TenantCalendar, received: datetime, n: int
) -> None:
    due = cal.due_at(received, n)
    assert due.at.tzinfo is UTC
    assert due.at in session_ends(cal, due.at)
    assert cal.days.is_working_day(local_day(due.at))
    assert local_day(due.at) > local_day(received)


@FAST
@given(cal=calendars, received=moments, n=half_days)
def test_due_moments_are_strictly_monotonic_in_n(
    cal: TenantCalendar, received: datetime, n: int
) -> None:
    assert cal.due_at(received, n).at < cal.due_at(received, n + 1).at


@FAST
@given(cal=calendars, received=moments, later=st.timedeltas(timedelta(0), timedelta(days=200)))
def test_counting_then_adding_brackets_the_moment(
    cal: TenantCalendar, received: datetime, later: timedelta
) -> None:
    moment = received + later
    k = cal.between(received, moment)
    assert cal.due_at(received, k).at <= moment < cal.due_at(received, k + 1).at


@FAST
@given(cal=calendars, received=moments, n=half_days)
def test_provisional_exactly_when_an_unpublished_year_is_touched(
    cal: TenantCalendar, received: datetime, n: int
) -> None:
    due = cal.due_at(received, n)
    years = range(local_day(received).year, local_day(due.at).year + 1)
    assert due.provisional == any(y not in (2025, 2026) for y in years)


@FAST
@given(cal=calendars, moment=moments)
def test_next_session_start_is_the_first_moment_in_service(
    cal: TenantCalendar, moment: datetime
) -> None:
    start = cal.next_session_start(moment)
    assert start >= moment
    assert cal.in_service(start)
    if not cal.in_service(moment):
        assert not cal.in_service(moment + (start - moment) / 2)


@FAST
@given(cal=calendars, a=moments, b=moments)
def test_sessions_left_is_antisymmetric(cal: TenantCalendar, a: datetime, b: datetime) -> None:
    if abs(b - a) > timedelta(days=400):
        b = a + (timedelta(days=400) if b > a else -timedelta(days=400))
    assert cal.sessions_left(a, b) == -cal.sessions_left(b, a)


@FAST
@given(cal=calendars, received=moments, n=half_days)
def test_sessions_left_at_receipt_covers_the_count(
    cal: TenantCalendar, received: datetime, n: int
) -> None:
    """Counting from receipt skips the rest of that day, so at least n sessions remain."""
    assert cal.sessions_left(received, cal.due_at(received, n).at) >= n


@FAST
@given(extra=regional, day=days)
def test_regional_days_change_only_their_own_dates(extra: dict[date, Rule], day: date) -> None:
    plain, local_cal = calendar(), calendar(extra)
    if day in extra:
        assert local_cal.days.is_working_day(day) == (extra[day].kind == "work")
    else:
        assert local_cal.days.is_working_day(day) == plain.days.is_working_day(day)
