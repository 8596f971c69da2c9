"""Reading the posted work-log and scheme forms (their rows vary in number, so they are read
field by field; every text is kept as typed for a 422)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.staff.worklog import Entry

SCHEME_FIELDS = ("key", "label", "applies", "expression", "weight")
BLANK_ROWS = 3
MAX_ROWS = 30


def _text(data: Any, name: str) -> str:
    value = data.get(name, "")
    return value.replace("\x00", "") if isinstance(value, str) else ""


def entry(data: Any, lines: int) -> Entry:
    """The posted log: ``attendance_<i>``/``note_<i>`` per staff line, offline, notes."""
    return Entry(
        attendance=[_text(data, f"attendance_{i}") for i in range(lines)],
        notes=[_text(data, f"note_{i}") for i in range(lines)],
        offline=_text(data, "offline"),
        style_notes=_text(data, "style_notes"),
        discipline_notes=_text(data, "discipline_notes"),
        note=_text(data, "note"),
    )


def lock_version(data: Any) -> int:
    """The posted lock version; unreadable → -1 (stale: never a blind save)."""
    try:
        value = int(_text(data, "lock_version"))
    except ValueError:
        return -1
    return value if 0 <= value < 2**31 else -1


def scheme_rows(data: Any) -> list[dict[str, str]]:
    """The posted components ``c<i>_<field>`` for i = 0 … (at most MAX_ROWS)."""
    rows = []
    for i in range(MAX_ROWS):
        if f"c{i}_key" not in data:
            break
        rows.append({f: _text(data, f"c{i}_{f}").strip() for f in SCHEME_FIELDS})
    return rows


def parse_day(text: str) -> date | None:
    """A day yyyy-mm-dd of the years 1900-2999 (none outside: 9999-12-31 has no next day
    to bound a query with)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2999 else None


def parse_id(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None
