"""The seal ledger's forms: a new seal, and the ledger filter (seal, date range, centre, page).

Dates in the filter are Asia/Shanghai local days: ``from`` starts at that day's midnight,
``to`` includes the whole day (the range ends at the next midnight).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import QueryParams
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import SHANGHAI

PAGE_SIZE = 50
MAX_PAGE = 10_000
# A range starting earlier starts here (date.min's local midnight is before 1 AD in UTC).
EARLIEST = date(1900, 1, 1)


class SealForm(Form):
    name = StringField(
        _l("Seal name"),
        [DataRequired(_l("Enter the seal's name as carved on it.")), Length(max=120)],
        filters=[strip],
    )
    keeper = StringField(_l("Keeper"), [Length(max=64)], filters=[strip])


@dataclass
class LedgerFilter:
    """The ledger filter as asked (texts kept for the form) and as understood."""

    seal: str = ""
    start: str = ""  # the ``from`` field
    end: str = ""  # the ``to`` field
    centre: str = ""
    page: int = 1
    seal_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, **change: Any) -> str:
        """The query string of this filter (``change`` overrides, e.g. ``page=2``)."""
        from urllib.parse import urlencode

        values = {
            "centre": self.centre,
            "seal": self.seal,
            "from": self.start,
            "to": self.end,
            "page": str(self.page),
        }
        values.update({k: str(v) for k, v in change.items()})
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == "1")})

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def local_start(day: date) -> datetime:
    """The first moment of a Shanghai local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def _number(text: str) -> int | None:
    """A plain (ASCII) whole number of at most 9 digits, else ``None`` (no ``int()`` of
    5 000 digits or of a superscript "²", which ``isdigit`` lets through)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_filter(params: QueryParams, seal_ids: set[int]) -> LedgerFilter:
    """Read ``seal``, ``from``, ``to``, ``centre`` and ``page``; problems go to ``errors``."""
    f = LedgerFilter(
        seal=params.get("seal", "").strip()[:12],
        start=params.get("from", "").strip()[:10],
        end=params.get("to", "").strip()[:10],
        centre=params.get("centre", "").strip()[:63],
    )
    page = _number(params.get("page", "1").strip())
    f.page = min(page, MAX_PAGE) if page else 1
    if f.seal:
        seal_id = _number(f.seal)
        if seal_id is not None and seal_id in seal_ids:
            f.seal_id = seal_id
        else:
            f.errors["seal"] = _("Choose one of the centre's seals.")
    first = last = None
    if f.start:
        first = _date(f.start)
        if first is None:
            f.errors["from"] = _("Enter a date as YYYY-MM-DD.")
        else:
            f.since = local_start(max(first, EARLIEST))
    if f.end:
        last = _date(f.end)
        if last is None:
            f.errors["to"] = _("Enter a date as YYYY-MM-DD.")
        else:
            # The last day of the calendar has no next midnight: no upper bound then.
            f.until = local_start(last + timedelta(days=1)) if last < date.max else None
    if first and last and first > last:
        f.errors["to"] = _("The end date is before the start date.")
    return f
