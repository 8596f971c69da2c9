"""The report-form editor's forms: sections of field rows and rule rows, repeatable without
JavaScript (the add and move buttons post the page and get it back with the change) — and
the way between the posted form and a definition dict (:mod:`app.reports.definition`).

Blank rows and rows ticked "remove" are left out of the definition; the rows are checked
where they stand by :mod:`app.reports.definition_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import wtforms
from starlette.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from app.accounts.forms import CheckboxesField
from app.reports import definition as definitions
from app.reports.definition import FIELD_TYPES, FILER_KINDS, LEVELS, ROLLUPS, SOURCES
from app.reports.versions import CODE
from app.web.forms import Form
from app.web.i18n import lazy_gettext as _l

MAX_SECTIONS = 20
BLANK_FIELDS = 2  # empty field rows of a new section
AUTO = "auto"
ROLLUP_CHOICES = [(AUTO, _l("By type (sum; average for %)")), *ROLLUPS.items()]
SOURCE_CHOICES = [("", "—"), *SOURCES.items()]


def text(value: Any) -> Any:
    """Strip, and turn the browser's CR LF into LF (so unchanged text stays equal)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


def default_rollup(kind: str) -> str:
    return {"integer": "sum", "decimal": "sum", "percent": "mean"}.get(kind, "none")


class Row(wtforms.Form):
    """A repeatable row (a FormField's sub-form: no CSRF); blank or removed rows drop out."""

    KEYS: tuple[str, ...] = ()

    class Meta:
        csrf = False

    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not any((self[k].data or "").strip() for k in self.KEYS)

    def dropped(self) -> bool:
        return bool(self.remove.data) or self.is_blank()

    def problem(self, name: str, message: str) -> None:
        target = self[name]
        target.errors = [*target.errors, message]


class FieldRow(Row):
    KEYS = ("key", "label", "unit", "help", "choices")
    key = StringField(_l("Field key"), [Length(max=40)], filters=[text])
    label = StringField(_l("Field label"), [Length(max=120)], filters=[text])
    type = SelectField(_l("Field type"), choices=list(FIELD_TYPES.items()), default="integer")
    required = BooleanField(_l("Must be filled in"), default=True)
    unit = StringField(_l("Unit"), [Length(max=16)], filters=[text])
    help = StringField(_l("Help text"), [Length(max=500)], filters=[text])
    choices = TextAreaField(_l("Choices (one per line)"), filters=[text])
    source = SelectField(_l("Pre-filled from case records"), choices=SOURCE_CHOICES, default="")
    rollup = SelectField(_l("Roll-up"), choices=ROLLUP_CHOICES, default=AUTO)


class SectionRow(Row):
    KEYS = ("key", "title", "help")
    key = StringField(_l("Section key"), [Length(max=40)], filters=[text])
    title = StringField(_l("Section title"), [Length(max=120)], filters=[text])
    help = StringField(_l("Help text"), [Length(max=500)], filters=[text])
    fields = FieldList(FormField(FieldRow), max_entries=definitions.MAX_FIELDS)

    def is_blank(self) -> bool:
        return super().is_blank() and all(f.form.dropped() for f in self.fields)


class RuleRow(Row):
    KEYS = ("key", "expr", "message")
    key = StringField(_l("Rule key"), [Length(max=40)], filters=[text])
    level = SelectField(_l("Blocking or warning"), choices=list(LEVELS.items()), default="block")
    expr = TextAreaField(_l("Expression"), [Length(max=500)], filters=[text])
    message = StringField(_l("Message to the centre"), [Length(max=200)], filters=[text])
    position: int | None = None  # where a rule that does not compile goes wrong


class DefinitionForm(Form):
    title = StringField(_l("Form title"), [DataRequired(), Length(max=200)], filters=[text])
    filers = CheckboxesField(
        _l("Filed by"),
        [DataRequired(message=_l("Choose who files this form."))],
        choices=list(FILER_KINDS.items()),
    )
    due_day = IntegerField(
        _l("Due day (of the next month)"),
        [InputRequired(), NumberRange(1, 28, message=_l("Between 1 and 28."))],
        default=5,
    )
    lock_day = IntegerField(
        _l("Lock day (of the next month)"),
        [InputRequired(), NumberRange(1, 28, message=_l("Between 1 and 28."))],
        default=10,
    )
    intro = TextAreaField(_l("Introduction"), [Length(max=1000)], filters=[text])
    sections = FieldList(FormField(SectionRow), max_entries=MAX_SECTIONS)
    rules = FieldList(FormField(RuleRow), max_entries=definitions.MAX_RULES)
    effective_from = DateField(
        _l("Effective from"),
        [InputRequired(message=_l("Enter the date as YYYY-MM-DD."))],
        format="%Y-%m-%d",
    )
    change_note = TextAreaField(_l("Change note"), [Length(max=1000)], filters=[text])

    def add_section(self) -> bool:
        if len(self.sections.entries) >= MAX_SECTIONS:
            return False
        entry = self.sections.append_entry()
        for _i in range(BLANK_FIELDS):
            entry.form.fields.append_entry()
        return True

    def add_field(self, index: int) -> bool:
        if not 0 <= index < len(self.sections.entries):
            return False
        rows = self.sections.entries[index].form.fields
        if len(rows.entries) >= definitions.MAX_FIELDS:
            return False
        rows.append_entry()
        return True

    def add_rule(self) -> bool:
        if len(self.rules.entries) >= definitions.MAX_RULES:
            return False
        self.rules.append_entry()
        return True


class NewDefinitionForm(DefinitionForm):
    code = StringField(
        _l("Code"),
        [
            DataRequired(),
            Regexp(
                CODE.pattern,
                message=_l("Lower-case letters, digits and - (2 to 32, starting with a letter)."),
            ),
        ],
        filters=[text],
    )


class EditDefinitionForm(DefinitionForm):
    expected = HiddenField()


# --- between the form and the definition ------------------------------------------------


@dataclass
class Where:
    """Which form rows the definition's sections, fields and rules came from."""

    sections: list[tuple[SectionRow, list[FieldRow]]] = field(default_factory=list)
    rules: list[RuleRow] = field(default_factory=list)


def _ordered(values: Iterable[str], before: list[str] | None, shown: list[str]) -> list[str]:
    """Ticked values: those of the previous version keep its order, new ones follow."""
    selected = set(values)
    kept = [v for v in (before or []) if v in selected]
    return kept + [v for v in shown if v in selected and v not in kept]


def _field(row: FieldRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": row.key.data or "",
        "label": row.label.data or "",
        "type": row.type.data,
        "help": row.help.data or "",
        "required": bool(row.required.data),
        "unit": row.unit.data or "",
        "choices": [c.strip() for c in (row.choices.data or "").split("\n") if c.strip()],
        "source": row.source.data or "",
    }
    if row.rollup.data and row.rollup.data != AUTO:
        out["rollup"] = row.rollup.data
    return out


def to_definition(form: DefinitionForm, previous: dict[str, Any] | None) -> tuple[dict, Where]:
    """The definition dict the form describes, and where each part came from."""
    where = Where()
    sections = []
    for entry in form.sections:
        sec: SectionRow = entry.form
        rows = [f.form for f in sec.fields if not f.form.dropped()]
        if sec.remove.data or (sec.is_blank() and not rows):
            continue
        where.sections.append((sec, rows))
        sections.append(
            {
                "key": sec.key.data or "",
                "title": sec.title.data or "",
                "help": sec.help.data or "",
                "fields": [_field(r) for r in rows],
            }
        )
    rules = []
    for entry in form.rules:
        rule: RuleRow = entry.form
        if rule.dropped():
            continue
        where.rules.append(rule)
        rules.append(
            {
                "key": rule.key.data or "",
                "level": rule.level.data,
                "expr": rule.expr.data or "",
                "message": rule.message.data or "",
            }
        )
    data = {
        "filers": _ordered(form.filers.data or [], (previous or {}).get("filers"), [*FILER_KINDS]),
        "due_day": form.due_day.data,
        "lock_day": form.lock_day.data,
        "intro": form.intro.data or "",
        "sections": sections,
        "rules": rules,
    }
    return data, where


def form_data(definition: dict[str, Any]) -> dict[str, Any]:
    """A stored definition as the editor's initial data."""
    return {
        **{k: definition.get(k) for k in ("filers", "due_day", "lock_day", "intro")},
        "sections": [
            {
                **{k: s.get(k, "") for k in ("key", "title", "help")},
                "fields": [
                    {
                        **f,
                        "choices": "\n".join(f.get("choices") or []),
                        "rollup": AUTO
                        if f.get("rollup") in (None, default_rollup(f.get("type", "integer")))
                        else f["rollup"],
                    }
                    for f in s.get("fields", [])
                ],
            }
            for s in definition.get("sections", [])
        ],
        "rules": [dict(r) for r in definition.get("rules", [])],
    }


def blank_data() -> dict[str, Any]:
    """A new form: filed by regiments and communities, one section, one rule row."""
    return {
        "filers": ["regiment", "community"],
        "due_day": 5,
        "lock_day": 10,
        "sections": [{"fields": [{} for _i in range(BLANK_FIELDS)]}],
        "rules": [{}],
    }


# --- reading the post ---------------------------------------------------------------------

PLAIN_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
LONG_INDEX = re.compile(r"\d{7}")


def index(text: str) -> int | None:
    """A row index as the editor writes it (plain digits); None for anything else."""
    return int(text) if PLAIN_NAME.match(text) and text.isdigit() and len(text) <= 6 else None


def plain(formdata: Any) -> MultiDict:
    """The posted data without what the editor never sends: names that are not plain ASCII
    or hold an index of more than 6 digits (WTForms reads "sections-²-…" and a 5000-digit
    index as numbers and fails), and files where text is expected."""
    return MultiDict(
        (k, v)
        for k, v in formdata.multi_items()
        if isinstance(v, str) and PLAIN_NAME.match(k) and not LONG_INDEX.search(k)
    )


# --- moving rows (no JavaScript: the button posts, the page comes back reordered) ----------


def moved(formdata: Any, form: DefinitionForm, move: str) -> MultiDict | None:
    """The posted data with the row named in ``move`` ("up:sections-1-fields-2") swapped with
    its neighbour; None when there is nothing to move."""
    direction, _sep, name = move.partition(":")
    if direction not in ("up", "down"):
        return None
    lists = [form.sections, form.rules, *(s.form.fields for s in form.sections)]
    for rows in lists:
        names = [e.name for e in rows.entries]
        if name in names:
            other = names.index(name) + (-1 if direction == "up" else 1)
            if 0 <= other < len(names):
                return _swap(formdata, name, names[other])
    return None


def _swap(formdata: Any, a: str, b: str) -> MultiDict:
    pa, pb = f"{a}-", f"{b}-"
    items = []
    for key, value in formdata.multi_items():
        if key.startswith(pa):
            key = pb + key[len(pa) :]
        elif key.startswith(pb):
            key = pa + key[len(pb) :]
        items.append((key, value))
    return MultiDict(items)
