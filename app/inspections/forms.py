"""Forms of conducting an inspection: planning / starting one, the findings editor of the
submission, the manager's acknowledgement.  The answers of a section are read directly
(``score_<item>`` / ``note_<item>``) by :func:`app.inspections.inspections.parse_section`."""

from __future__ import annotations

from typing import Any

from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app.inspections.findings import DEFAULT_DAYS, FindingInput
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

FINDING_ROWS = 3  # blank rows of the findings editor (more via ?rows=)
MAX_ROWS = 30


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StartForm(Form):
    centre = SelectField(
        _l("Centre to inspect"), validators=[InputRequired()], validate_choice=False
    )
    checklist = SelectField(
        _l("Inspection checklist"), validators=[InputRequired()], validate_choice=False
    )
    planned_on = DateField(_l("Inspection date"), validators=[InputRequired()])
    inspectors = CheckboxesField(_l("Inspectors"), coerce=int, validate_choice=False)
    origin = RadioField(
        _l("Kind of inspection"),
        choices=[
            SelectChoice("planned", _l("Planned inspection")),
            SelectChoice("spot", _l("Spot check")),
        ],
        default="planned",
        validate_choice=False,
    )
    client_key = HiddenField()
    draw = HiddenField()


class AcknowledgeForm(Form):
    note = TextAreaField(_l("Note for the division (optional)"), filters=[strip])


class SubmitForm(Form):
    summary = TextAreaField(_l("Overall assessment"), filters=[strip])
    lock_version = HiddenField()


def finding_rows(form: Any) -> tuple[list[FindingInput], list[dict[str, Any]], dict[int, int]]:
    """The findings posted as ``finding_text_<n>`` / ``finding_item_<n>`` /
    ``finding_days_<n>``: the filled rows, every row as posted (to re-render), and the index
    of each filled row among all rows.  A row without text is left out."""
    indexes = sorted(
        {
            int(k.rsplit("_", 1)[1])
            for k in form.keys()
            if k.startswith("finding_text_")
            and k.rsplit("_", 1)[1].isascii()
            and k.rsplit("_", 1)[1].isdigit()
            and len(k.rsplit("_", 1)[1]) < 10
        }
    )[: MAX_ROWS * 2]
    filled: list[FindingInput] = []
    rows: list[dict[str, Any]] = []
    where: dict[int, int] = {}
    for n in indexes:
        text = str(form.get(f"finding_text_{n}", "")).replace("\x00", "").strip()
        item = str(form.get(f"finding_item_{n}", "")).strip()
        raw_days = str(form.get(f"finding_days_{n}", "")).strip()
        try:
            days = int(raw_days) if raw_days else DEFAULT_DAYS
        except ValueError:
            days = -1
        rows.append({"text": text, "item": item, "days": raw_days or str(DEFAULT_DAYS)})
        if text:
            where[len(filled)] = len(rows) - 1
            filled.append(FindingInput(text, item, days))
    return filled, rows, where


def blank_rows(count: int = FINDING_ROWS) -> list[dict[str, Any]]:
    return [{"text": "", "item": "", "days": str(DEFAULT_DAYS)} for _ in range(count)]
