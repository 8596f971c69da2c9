"""Table tests of the pure core with the real 2026 (and 2025) calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.calendar.workdays import Days, Hours, Rule, TenantCalendar, exceptions
from tests.calendar.helpers import calendar, local, shipped_days

CAL = calendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # 元旦
        (date(2026, 1, 2), False),  # 元旦 (Friday)
        (date(2026, 1, 4), True),  # make-up Sunday
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # make-up Saturday
        *((date(2026, 2, d), False) for d in range(15, 24)),  # 春节 02-15 … 02-23
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # make-up Saturday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 3, 8), False),  # an ordinary Sunday
        (date(2026, 6, 19), False),  # 端午节 (Friday)
        (date(2026, 9, 20), True),  # make-up Sunday
        (date(2026, 9, 25), False),  # 中秋节 (Friday)
        *((date(2026, 10, d), False) for d in range(1, 8)),  # 国庆节 10-01 … 10-07
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2025, 1, 26), True),  # 2025: make-up Sunday
        (date(2025, 10, 8), False),  # 2025: 国庆节、中秋节, 8 days
        (date(2025, 10, 11), True),  # 2025: make-up Saturday
    ],
)
def test_working_days_of_2026(day: date, working: bool) -> None:
    assert CAL.days.is_working_day(day) is working


@pytest.mark.parametrize(
    ("received", "half_days", "due"),
    [
        # Friday before the Spring Festival: the make-up Saturday counts (winter hours).
        (local(2026, 2, 13, 10), 1, local(2026, 2, 14, 14, 0)),
        (local(2026, 2, 13, 10), 2, local(2026, 2, 14, 19, 30)),
        # …then the whole festival is skipped.
        (local(2026, 2, 13, 10), 3, local(2026, 2, 24, 14, 0)),
        # Received on the make-up Saturday itself: that day does not count.
        (local(2026, 2, 14, 11), 1, local(2026, 2, 24, 14, 0)),
        # Before National Day: the week off is skipped; 10-10 (Saturday) counts.
        (local(2026, 9, 30, 16), 2, local(2026, 10, 8, 19, 30)),
        (local(2026, 9, 30, 16), 4, local(2026, 10, 9, 19, 30)),
        (local(2026, 9, 30, 16), 5, local(2026, 10, 10, 14, 0)),
        # Season change: winter hours in April, summer hours from 05-01 (after 劳动节).
        (local(2026, 4, 30, 9), 1, local(2026, 5, 6, 13, 30)),
        (local(2026, 4, 29, 9), 2, local(2026, 4, 30, 19, 30)),
        # A weekend receipt counts from Monday.
        (local(2026, 3, 7, 12), 1, local(2026, 3, 9, 14, 0)),
        (local(2026, 3, 7, 12), 10, local(2026, 3, 13, 19, 30)),
        # 01:00 in Shanghai is still the previous day in UTC: the local day is what counts.
        (datetime(2026, 3, 5, 17, 0, tzinfo=UTC), 1, local(2026, 3, 9, 14, 0)),
        # Zero half-days: due at receipt.
        (local(2026, 3, 9, 11), 0, local(2026, 3, 9, 11)),
    ],
)
def test_due_at(received: datetime, half_days: int, due: datetime) -> None:
    answer = CAL.due_at(received, half_days)
    assert answer.at == due
    assert answer.at.tzinfo is UTC
    assert answer.provisional is False
    assert CAL.between(received, answer.at) == half_days
    if half_days:
        assert CAL.between(received, answer.at - timedelta(seconds=1)) == half_days - 1


def test_between_is_defined_from_the_day_after_receipt() -> None:
    received = local(2026, 3, 9, 9)  # Monday, before opening: that day still does not count
    assert CAL.between(received, local(2026, 3, 9, 23)) == 0
    assert CAL.between(received, local(2026, 3, 10, 13, 59)) == 0
    assert CAL.between(received, local(2026, 3, 10, 14)) == 1
    assert CAL.between(received, local(2026, 3, 11, 0)) == 2
    assert CAL.between(received, received - timedelta(days=3)) == 0


def test_sessions_left_counts_today_and_goes_negative_when_late() -> None:
    due = local(2026, 3, 11, 19, 30)  # Wednesday, end of the afternoon
    assert CAL.sessions_left(local(2026, 3, 10, 9), due) == 4
    assert CAL.sessions_left(local(2026, 3, 10, 15), due) == 3
    assert CAL.sessions_left(due, due) == 0
    assert CAL.sessions_left(local(2026, 3, 12, 20), due) == -2


def test_provisional_years() -> None:
    assert CAL.is_provisional(date(2028, 5, 1))
    assert not CAL.is_provisional(date(2026, 5, 1))
    answer = CAL.due_at(local(2028, 4, 28, 10), 2)  # Friday: plain weekdays in 2028
    assert answer.provisional is True
    assert answer.at == local(2028, 5, 1, 20, 0)  # 05-01: an ordinary Monday, summer hours
    # A deadline running from published 2026 into unpublished 2027 is provisional too.
    assert CAL.due_at(local(2026, 12, 30, 10), 2).provisional is False
    assert CAL.due_at(local(2026, 12, 30, 10), 6).provisional is True


def test_draft_national_days_of_an_unpublished_year_do_not_count() -> None:
    days = shipped_days()
    draft = {**days.national, date(2028, 1, 3): Rule("off", "元旦")}
    cal = TenantCalendar(calendar().hours, Days(days.published, draft, {}))
    assert cal.days.is_working_day(date(2028, 1, 3))
    published = TenantCalendar(cal.hours, Days(days.published | {2028}, draft, {}))
    assert not published.days.is_working_day(date(2028, 1, 3))


def test_regional_days_override_national_ones() -> None:
    cal = calendar(
        {
            date(2026, 3, 20): Rule("off", "肉孜节"),  # a Friday, test data only
            date(2026, 2, 28): Rule("off", "地区调整"),  # cancels a national make-up Saturday
            date(2026, 3, 21): Rule("work", "地区调休上班"),  # a Saturday becomes a working day
        }
    )
    assert not cal.days.is_working_day(date(2026, 3, 20))
    assert not cal.days.is_working_day(date(2026, 2, 28))
    assert cal.days.is_working_day(date(2026, 3, 21))
    assert cal.due_at(local(2026, 3, 19, 10), 1).at == local(2026, 3, 21, 14)


def test_service_hours() -> None:
    monday = (2026, 3, 9)
    assert CAL.in_service(local(*monday, 10, 0))  # start is inside
    assert not CAL.in_service(local(*monday, 14, 0))  # end is outside
    assert not CAL.in_service(local(*monday, 14, 30))  # the midday gap
    assert CAL.next_session_start(local(*monday, 14, 30)) == local(*monday, 15, 30)
    assert CAL.next_session_start(local(*monday, 10, 0)) == local(*monday, 10, 0)
    assert CAL.next_session_start(local(*monday, 10, 1)) == local(*monday, 15, 30)
    assert not CAL.in_service(local(2026, 3, 7, 11))  # Saturday
    assert CAL.next_session_start(local(2026, 3, 7, 11)) == local(*monday, 10, 0)
    # After Friday's close before the festival, the next session is the make-up Saturday.
    assert CAL.next_session_start(local(2026, 2, 13, 20)) == local(2026, 2, 14, 10)
    assert CAL.in_service(local(2026, 2, 14, 16))
    assert CAL.next_session_start(local(2026, 9, 30, 20)) == local(2026, 10, 8, 10)
    # Summer hours.
    assert CAL.in_service(local(2026, 7, 1, 19, 59))
    assert not CAL.in_service(local(2026, 7, 1, 20, 0))


def test_naive_moments_and_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.due_at(datetime(2026, 3, 9, 10), 1)
    with pytest.raises(ValueError):
        CAL.due_at(local(2026, 3, 9, 10), -1)


def test_hours_parse_rejects_overlapping_sessions() -> None:
    bad = {
        "summer": {"from": "05-01", "morning": ["09:00", "13:00"], "afternoon": ["12:00", "18:00"]}
    }
    with pytest.raises(ValueError):
        Hours.parse(bad)
    with pytest.raises(ValueError):
        Hours.parse({})


def test_season_wraps_around_the_new_year() -> None:
    hours = calendar().hours
    assert hours.season(date(2026, 1, 15)).starts == (10, 1)
    assert hours.season(date(2026, 4, 30)).starts == (10, 1)
    assert hours.season(date(2026, 5, 1)).starts == (5, 1)
    assert hours.season(date(2026, 12, 31)).starts == (10, 1)


def test_exceptions_of_2026_as_runs() -> None:
    runs = {(r.first, r.last): r for r in exceptions(shipped_days(), 2026)}
    festival = runs[(date(2026, 2, 15), date(2026, 2, 23))]
    assert (festival.name, festival.kind, festival.length, festival.source) == (
        "春节",
        "off",
        9,
        "national",
    )
    assert runs[(date(2026, 10, 10), date(2026, 10, 10))].kind == "work"
    assert runs[(date(2026, 10, 1), date(2026, 10, 7))].length == 7
    assert len(runs) == 13
    assert exceptions(shipped_days(), 2028) == []
