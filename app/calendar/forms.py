"""Forms for calendar days and published years."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

FIRST_YEAR, LAST_YEAR = 2000, 2099

KIND_LABELS = {"off": _l("Day off"), "work": _l("Working day (make-up)")}
SOURCE_LABELS = {"national": _l("National"), "regional": _l("Regional")}


def day_problem(day: date, kind: str) -> str | None:
    """Why ``day`` cannot have ``kind`` (shared by the forms and the manifests)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return str(_l("Choose a date between 2000 and 2099."))
    if kind == "work" and day.weekday() < 5:
        return str(_l("A make-up working day falls on a Saturday or a Sunday."))
    return None


class DayForm(Form):
    day = DateField(
        _l("Date"),
        [InputRequired(message=_l("Enter the date as YYYY-MM-DD."))],
        format="%Y-%m-%d",
    )
    kind = SelectField(_l("Kind"), choices=[(k, v) for k, v in KIND_LABELS.items()])
    name = StringField(
        _l("Holiday name"), [DataRequired(), Length(max=60)], filters=[strip], default=""
    )

    def validate_day(self, field: Any) -> None:
        if field.data is not None:
            problem = day_problem(field.data, self.kind.data or "off")
            if problem:
                raise ValidationError(problem)


class RemoveForm(Form):
    """Remove one day, or a run of days up to ``until`` (hidden fields of a remove button)."""

    day = DateField(_l("Date"), [InputRequired()], format="%Y-%m-%d")
    until = DateField(_l("Until"), [Optional()], format="%Y-%m-%d")

    def span(self) -> tuple[date, date] | None:
        first, last = self.day.data, self.until.data or self.day.data
        if last < first or last.year != first.year:
            return None
        return first, last


class PublishForm(Form):
    year = IntegerField(
        _l("Year"),
        [
            InputRequired(message=_l("Enter the year, e.g. 2027.")),
            NumberRange(FIRST_YEAR, LAST_YEAR, message=_l("Choose a year between 2000 and 2099.")),
        ],
    )
    notice = StringField(
        _l("Notice reference"), [DataRequired(), Length(min=2, max=200)], filters=[strip]
    )


def year_param(value: str | None, default: int) -> int:
    """``?year=`` from the address; anything unusable gives ``default``."""
    if value and value.isdigit() and FIRST_YEAR <= int(value) <= LAST_YEAR:
        return int(value)
    return default
