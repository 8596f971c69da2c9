"""Calendars for the pure tests, built from the shipped manifests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

from app.calendar.workdays import SHANGHAI, Days, Hours, Rule, TenantCalendar
from app.tenancy import manifests
from tests.conftest import ROOT

# d4's hours (tenants/d4.toml): summer from 05-01, winter from 10-01.
D4_HOURS: dict[str, Any] = {
    "summer": {"from": "05-01", "morning": ["09:30", "13:30"], "afternoon": ["16:00", "20:00"]},
    "winter": {"from": "10-01", "morning": ["10:00", "14:00"], "afternoon": ["15:30", "19:30"]},
}


@cache
def shipped_days() -> Days:
    """The national data of ``tenants/calendar-*.toml``, exactly as apply would store it."""
    national: dict[date, Rule] = {}
    published: set[int] = set()
    for item in manifests.load(ROOT / "tenants"):
        m = item.manifest
        for spec in m.national_days:
            for day in spec.days():
                national[day] = Rule(spec.kind, spec.name)
        if m.calendar_year:
            published.add(m.calendar_year.year)
    return Days(frozenset(published), national, {})


def calendar(regional: dict[date, Rule] | None = None, hours: Any = None) -> TenantCalendar:
    days = shipped_days()
    return TenantCalendar(
        Hours.parse(hours or D4_HOURS), Days(days.published, days.national, regional or {})
    )


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Shanghai wall-clock moment as an aware UTC datetime."""
    return datetime.combine(date(y, m, d), time(hh, mm), SHANGHAI).astimezone(UTC)
