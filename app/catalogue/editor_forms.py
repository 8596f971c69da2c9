"""The item editor's forms: every content field, repeatable material and step rows, time
limits entered in working days (half-day steps) — and the way back to a content dict."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import wtforms
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.accounts.forms import CheckboxesField
from app.catalogue.content import (
    CHANNELS,
    FORMS,
    KINDS,
    MAX_HALVES,
    POWER_TYPES,
    REQUIREMENTS,
    halves_text,
)
from app.catalogue.versions import CODE_PATTERN
from app.web.forms import Form
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import SHANGHAI

BLANK_ROWS = 3  # blank material/step rows under the filled ones (blank rows are ignored)
MAX_ROWS = 60
_DAYS = re.compile(r"^\d{1,3}(?:\.\d+)?$")


def text(value: Any) -> Any:
    """Strip, and turn the browser's CR LF line ends into LF (so unchanged text stays equal)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


def parse_days(value: str | None) -> int | None:
    """Working days as typed ("2.5", "３", "2,5") → half-days; ``None`` if not a half-day step."""
    raw = unicodedata.normalize("NFKC", value or "").strip().replace(",", ".").replace("。", ".")
    if not _DAYS.match(raw):
        return None
    try:
        halves = Decimal(raw) * 2
    except InvalidOperation:
        return None
    if halves != halves.to_integral_value() or halves > MAX_HALVES:
        return None
    return int(halves)


def days_text(halves: int | None) -> str:
    """Half-days → working days as the form shows them ("2.5", "3")."""
    if halves is None:
        return ""
    return f"{Decimal(halves) / 2:.1f}".rstrip("0").rstrip(".")


def _days_check(form: wtforms.Form, field: wtforms.Field) -> None:
    if (field.data or "").strip() and parse_days(field.data) is None:
        raise wtforms.ValidationError(
            _("Enter working days in half-day steps, e.g. 3 or 2.5 (at most 365).")
        )


class Row(wtforms.Form):
    """A repeatable row (a FormField's sub-form: no CSRF, same locale as the page)."""

    KEYS: tuple[str, ...] = ()

    class Meta:
        csrf = False

    def is_blank(self) -> bool:
        return not any((self[k].data or "").strip() for k in self.KEYS)


class MaterialRow(Row):
    KEYS = ("name", "condition", "note")
    name = StringField(_l("Material"), [Length(max=120)], filters=[text])
    form = SelectField(_l("Form"), choices=list(FORMS.items()), default="original")
    copies = IntegerField(
        _l("Copies"),
        [Optional(), NumberRange(0, 50, message=_l("Between 0 and 50."))],
        default=1,
    )
    requirement = SelectField(
        _l("Required?"), choices=list(REQUIREMENTS.items()), default="required"
    )
    condition = StringField(_l("Needed when"), [Length(max=300)], filters=[text])
    note = StringField(_l("Note"), [Length(max=300)], filters=[text])
    sample_file_id = HiddenField()


class StepRow(Row):
    KEYS = ("name", "actor", "days")
    name = StringField(_l("Step"), [Length(max=40)], filters=[text])
    actor = StringField(_l("Who does it"), [Length(max=60)], filters=[text])
    days = StringField(_l("Working days"), [_days_check], filters=[text])


class ItemForm(Form):
    name = StringField(_l("Item name"), [DataRequired(), Length(min=2, max=120)], filters=[text])
    local_code = StringField(_l("Local implementation code"), [Length(max=40)], filters=[text])
    department = SelectField(_l("Department"), [InputRequired()], choices=[])
    power_type = SelectField(_l("Type of power"), choices=list(POWER_TYPES.items()))
    kind = SelectField(_l("Item kind"), choices=list(KINDS.items()), default="promised")
    joint_departments = CheckboxesField(_l("Departments that sign (joint items only)"), choices=[])
    legal_days = StringField(
        _l("Legal time limit (working days)"),
        [DataRequired(message=_l("Enter the legal time limit.")), _days_check],
        filters=[text],
    )
    promised_days = StringField(
        _l("Promised time limit (working days)"), [_days_check], filters=[text]
    )
    conditions = TextAreaField(_l("Conditions"), [Length(max=4000)], filters=[text])
    materials = FieldList(FormField(MaterialRow), max_entries=MAX_ROWS)
    fees = StringField(_l("Fees"), [Length(max=300)], filters=[text], default="不收费")
    fee_basis = TextAreaField(_l("Fee basis"), [Length(max=1000)], filters=[text])
    legal_basis = TextAreaField(_l("Legal basis"), [Length(max=4000)], filters=[text])
    implementing_body = StringField(_l("Implementing body"), [Length(max=120)], filters=[text])
    result_document = StringField(_l("Result document"), [Length(max=200)], filters=[text])
    supervising_phone = StringField(_l("Supervising phone"), [Length(max=40)], filters=[text])
    channels = CheckboxesField(
        _l("Channels"),
        [DataRequired(message=_l("Choose at least one channel."))],
        choices=list(CHANNELS.items()),
        default=["window"],
    )
    steps = FieldList(FormField(StepRow), max_entries=MAX_ROWS)
    effective_from = DateField(
        _l("Effective from"),
        [InputRequired(message=_l("Enter the date as YYYY-MM-DD."))],
        format="%Y-%m-%d",
    )
    change_note = TextAreaField(_l("Change note"), [Length(max=1000)], filters=[text])

    def setup(self, departments: list[tuple[str, str]]) -> None:
        self.department.choices = [("", _("Choose…")), *departments]
        self.joint_departments.choices = departments

    def add_blank_rows(self, which: str = "both", n: int = BLANK_ROWS) -> None:
        for name in ("materials", "steps"):
            if which in (name, "both"):
                rows = self[name]
                for _i in range(min(n, MAX_ROWS - len(rows.entries))):
                    rows.append_entry()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for row in self.materials:
            sub = row.form
            if sub.is_blank():
                continue
            if not sub.name.data:
                sub.name.errors = [*sub.name.errors, _("Enter the material's name.")]
                ok = False
            if sub.requirement.data == "conditional" and not sub.condition.data:
                sub.condition.errors = [
                    *sub.condition.errors,
                    _("Say when this material is needed."),
                ]
                ok = False
        for row in self.steps:
            sub = row.form
            if sub.is_blank():
                continue
            for key in ("name", "actor"):
                if not sub[key].data:
                    sub[key].errors = [*sub[key].errors, _("Enter this or clear the row.")]
                    ok = False
        if self.kind.data != "immediate" and not (self.promised_days.data or "").strip():
            self.add_error("promised_days", _("Enter the promised time limit."))
            ok = False
        return ok


class NewItemForm(ItemForm):
    code = StringField(
        _l("Basic code (基本编码)"),
        [
            DataRequired(),
            Regexp(CODE_PATTERN, message=_l("4–32 letters, digits or dashes, e.g. 000113101000.")),
        ],
        filters=[text],
    )


class EditItemForm(ItemForm):
    mandatory = BooleanField(_l("Mandatory: applies itself to the centres on its effective date"))
    base_version = HiddenField()


class RetireForm(Form):
    note = StringField(_l("Reason"), [Length(max=300)], filters=[text])


# --- between the form and the content ---------------------------------------------------


def _ordered(field: CheckboxesField, before: list[str] | None) -> list[str]:
    """The ticked values: those already in the previous version keep its order (so an
    unchanged list stays equal), new ones follow in the order the boxes are shown."""
    selected = set(field.data or [])
    kept = [v for v in (before or []) if v in selected]
    shown_order = [str(value) for value, *_rest in field.choices or []]
    return kept + [v for v in shown_order if v in selected and v not in kept]


def to_content(
    form: ItemForm, previous: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The content dict the form describes, and content row index → form row index."""
    prev = previous or {}
    rows: dict[str, list[int]] = {"materials": [], "steps": []}
    materials = []
    for i, entry in enumerate(form.materials):
        sub = entry.form
        if sub.is_blank():
            continue
        rows["materials"].append(i)
        sample = (sub.sample_file_id.data or "").strip()
        materials.append(
            {
                "name": sub.name.data,
                "form": sub.form.data,
                "copies": 1 if sub.copies.data is None else sub.copies.data,
                "requirement": sub.requirement.data,
                "condition": sub.condition.data or "",
                "note": sub.note.data or "",
                "sample_file_id": int(sample) if sample.isdigit() else None,
            }
        )
    steps = []
    for i, entry in enumerate(form.steps):
        sub = entry.form
        if sub.is_blank():
            continue
        rows["steps"].append(i)
        steps.append(
            {
                "name": sub.name.data,
                "actor": sub.actor.data,
                "halves": parse_days(sub.days.data) or 0,
            }
        )
    kind = form.kind.data
    promised = parse_days(form.promised_days.data)
    content = {
        "name": form.name.data,
        "local_code": form.local_code.data or "",
        "department": form.department.data,
        "power_type": form.power_type.data,
        "kind": kind,
        "joint_departments": _ordered(form.joint_departments, prev.get("joint_departments")),
        "legal_halves": parse_days(form.legal_days.data) or 0,
        "promised_halves": 0 if promised is None else promised,
        "conditions": form.conditions.data or "",
        "materials": materials,
        "fees": form.fees.data or "",
        "fee_basis": form.fee_basis.data or "",
        "legal_basis": form.legal_basis.data or "",
        "implementing_body": form.implementing_body.data or "",
        "result_document": form.result_document.data or "",
        "supervising_phone": form.supervising_phone.data or "",
        "channels": _ordered(form.channels, prev.get("channels")),
        "steps": steps,
    }
    return content, rows


def form_data(content: dict[str, Any]) -> dict[str, Any]:
    """A version's content as the editor's initial data."""
    return {
        **{k: v for k, v in content.items() if k not in ("materials", "steps")},
        "legal_days": days_text(content.get("legal_halves")),
        "promised_days": days_text(content.get("promised_halves")),
        "materials": [
            {**m, "sample_file_id": "" if m.get("sample_file_id") is None else m["sample_file_id"]}
            for m in content.get("materials") or []
        ],
        "steps": [
            {"name": s["name"], "actor": s["actor"], "days": days_text(s.get("halves", 0))}
            for s in content.get("steps") or []
        ],
    }


_FIELD_OF = {"legal_halves": "legal_days", "promised_halves": "promised_days"}
_SUB_OF = {"halves": "days"}


def show_problems(
    form: ItemForm, problems: dict[str, str], rows: dict[str, list[int]]
) -> list[str]:
    """Put content.validate's problems next to their fields; returns those with no field."""
    general = []
    for key, message in problems.items():
        parts = key.split(".")
        name = _FIELD_OF.get(parts[0], parts[0])
        if name in ("materials", "steps") and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows[name]):
                sub = form[name][rows[name][index]].form
                key2 = _SUB_OF.get(parts[2], parts[2]) if len(parts) > 2 else "name"
                target = sub[key2] if key2 in sub else sub.name
                target.errors = [*target.errors, message]
                continue
        if name in form and name not in ("materials", "steps"):
            form.add_error(name, message)
        else:
            general.append(message)
    return general


def error_list(form: ItemForm) -> list[tuple[str, str]]:
    """(field id, "label: message") of every error, rows included, for the summary's links."""
    out = []
    for f in form:
        if f.name in ("materials", "steps"):
            for n, entry in enumerate(f, start=1):
                for sub in entry.form:
                    row = (
                        _("Material %(n)s", n=n) if f.name == "materials" else _("Step %(n)s", n=n)
                    )
                    out += [(sub.id, f"{row} · {sub.label.text}: {e}") for e in sub.errors]
        elif isinstance(f.errors, list | tuple):
            out += [(f.id, f"{f.label.text}: {e}") for e in f.errors]
    return out


# --- showing a content value (item page, diffs) --------------------------------------------


def shown(field: str, value: Any, departments: dict[str, str]) -> list[str]:
    """A content value as lines of text for people (labels instead of codes)."""
    if value is None or value == "" or value == []:
        return []
    if field == "department":
        return [departments.get(value, value)]
    if field == "joint_departments":
        return ["、".join(departments.get(c, c) for c in value)]
    if field == "power_type":
        return [str(POWER_TYPES.get(value, value))]
    if field == "kind":
        return [str(KINDS.get(value, value))]
    if field in ("legal_halves", "promised_halves"):
        return [halves_text(value)]
    if field == "channels":
        return ["、".join(str(CHANNELS.get(c, c)) for c in value)]
    if field == "materials":
        return [material_line(m) for m in value]
    if field == "steps":
        return [f"{s['name']} · {s['actor']} · {halves_text(s.get('halves', 0))}" for s in value]
    return [str(value)]


def material_line(m: dict[str, Any]) -> str:
    parts = [m["name"], str(FORMS.get(m.get("form", ""), m.get("form", "")))]
    parts.append(_("%(n)s copies", n=m.get("copies", 1)))
    if m.get("requirement") == "conditional":
        parts.append(_("when: %(condition)s", condition=m.get("condition", "")))
    else:
        parts.append(str(REQUIREMENTS["required"]))
    if m.get("note"):
        parts.append(m["note"])
    return " · ".join(parts)


def today() -> date:
    """Today in Asia/Shanghai (the default effective date)."""
    return datetime.now(UTC).astimezone(SHANGHAI).date()
