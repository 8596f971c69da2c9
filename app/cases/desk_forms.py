"""Forms of the window desk: registration, the material lines, and every case action.

The action forms carry a prefix (``accept-note``, ``decide-seal`` …) so that the many forms of
the case page never share an HTML id.  The material lines are not WTForms fields (their
number depends on the item): :func:`material_lines` reads and keeps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.datastructures import FormData, UploadFile
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.calendar.workdays import SHANGHAI
from app.cases import workflow
from app.cases.intake import DEFAULT_SUPPLEMENT_DAYS, MaterialCheck
from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

MATERIAL_STATUSES = {
    "received": _l("Received"),
    "missing": _l("Missing"),
    "defective": _l("Defective"),
    "waived": _l("Not applicable"),
}
FILE_ACCEPT = "image/*,application/pdf"


def _choices(labels: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in labels.items()]


class RegisterForm(Form):
    applicant_kind = RadioField(
        _l("Applicant"), choices=[], default="person", validate_choice=False
    )
    applicant_name = StringField(
        _l("Name (person or organisation)"),
        [InputRequired(_l("Enter the applicant's name.")), Length(max=120)],
        filters=[strip],
    )
    id_number = StringField(
        _l("ID number or unified social credit code"),
        [InputRequired(_l("Enter the ID number.")), Length(max=40)],
        filters=[strip],
    )
    phone = StringField(_l("Phone"), [Length(max=32)], filters=[strip])
    contact_address = StringField(_l("Contact address"), [Length(max=200)], filters=[strip])
    channel = SelectField(_l("Channel"), choices=[], default="window", validate_choice=False)
    urgent = BooleanField(_l("Urgent (急办)"))
    green_channel = BooleanField(_l("Green channel (key project)"))
    note = TextAreaField(_l("Note"), [Length(max=2000)], filters=[strip])
    supplement_days = IntegerField(
        _l("Days to hand in missing materials"),
        [Optional(), NumberRange(1, 60)],
        default=DEFAULT_SUPPLEMENT_DAYS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applicant_kind.choices = _choices(workflow.APPLICANT_KINDS)
        self.channel.choices = _choices(workflow.CHANNELS)


def form_id(value: object) -> int | None:
    """A record id chosen in a form (plain ASCII digits within the id range), else ``None``.

    ``str.isdigit`` alone lets "²" (``int()`` refuses it) and 5 000-digit numbers through,
    and PostgreSQL refuses ids past int32.
    """
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= 2**31 - 1 else None


# --- material lines -------------------------------------------------------------------------


def material_lines(
    materials: list[dict[str, Any]],
    formdata: FormData | None = None,
    current: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One dict per material of the item: what the form shows (and what was typed).

    ``materials`` are the version's (or the case's) lines; ``current`` the case's recorded
    status per position (supplement form); ``formdata`` what was posted.
    """
    out = []
    for position, material in enumerate(materials):
        position = int(material.get("position", position))
        requirement = material.get("requirement", "required")
        recorded = (current or {}).get(position)
        if recorded is not None:
            status, problem = recorded["status"], recorded.get("problem", "")
        else:
            status = "waived" if requirement == "conditional" else "missing"
            problem = ""
        if formdata is not None:
            status = str(formdata.get(f"m{position}_status", status))
            problem = str(formdata.get(f"m{position}_problem", problem))
            problem = problem.replace("\x00", "").strip()  # PostgreSQL stores no NUL
        statuses = [s for s in MATERIAL_STATUSES if s != "waived" or requirement == "conditional"]
        out.append(
            {
                "position": position,
                "name": material["name"],
                "requirement": requirement,
                "condition": material.get("condition", ""),
                "form": material.get("form", ""),
                "note": material.get("note", ""),
                "status": status if status in statuses else "missing",
                "problem": problem[:500],
                "statuses": statuses,
                "error": "",
            }
        )
    return out


def material_checks(lines: list[dict[str, Any]]) -> dict[int, MaterialCheck]:
    return {ln["position"]: MaterialCheck(ln["status"], ln["problem"]) for ln in lines}


def uploads(formdata: FormData, lines: list[dict[str, Any]]) -> list[tuple[int, UploadFile]]:
    """The files chosen for each material line (``m<position>_file``, several allowed)."""
    out = []
    for line in lines:
        for value in formdata.getlist(f"m{line['position']}_file"):
            if isinstance(value, UploadFile) and (value.filename or value.size):
                out.append((line["position"], value))
    return out


def set_line_error(lines: list[dict[str, Any]], field: str, message: str) -> bool:
    """Put a service message on its material line (``material_<position>``); False if none."""
    if not field.startswith("material_"):
        return False
    for line in lines:
        if f"material_{line['position']}" == field:
            line["error"] = message
            return True
    return False


# --- case actions ---------------------------------------------------------------------------


class NoteForm(Form):
    note = TextAreaField(_l("Note (optional)"), [Length(max=2000)], filters=[strip])


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"), [InputRequired(_l("Give the reason.")), Length(max=2000)], filters=[strip]
    )


class NoticeForm(Form):
    reason = TextAreaField(
        _l("The new fact that makes another notice necessary"),
        [Length(max=2000)],
        filters=[strip],
    )
    supplement_days = IntegerField(
        _l("Days to hand in missing materials"),
        [Optional(), NumberRange(1, 60)],
        default=DEFAULT_SUPPLEMENT_DAYS,
    )


class SignForm(Form):
    department = SelectField(_l("Department"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note (optional)"), [Length(max=2000)], filters=[strip])


class DecideForm(Form):
    decision = RadioField(_l("Decision"), choices=[], default="approved", validate_choice=False)
    reason = TextAreaField(
        _l("Reason (required for a denial)"), [Length(max=2000)], filters=[strip]
    )
    seal = SelectField(_l("Seal used"), choices=[], validate_choice=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decision.choices = _choices(workflow.DECISIONS)

    def set_seals(self, seals: list[dict[str, Any]]) -> None:
        active = [s for s in seals if s["active"]]
        self.seal.choices = [(str(s["id"]), s["name"]) for s in active]
        if len(active) != 1:
            self.seal.choices.insert(0, ("", _("— choose the seal —")))


class PauseForm(Form):
    reason = SelectField(_l("Why the clock stops"), choices=[], validate_choice=False)
    note = TextAreaField(
        _l("Description for the applicant"),
        [InputRequired(_l("Describe the pause for the applicant.")), Length(max=2000)],
        filters=[strip],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = _choices(workflow.PAUSE_REASONS)


class ExtendForm(Form):
    days = IntegerField(
        _l("Extension (working days)"),
        [InputRequired(_l("Enter the number of working days.")), NumberRange(1, 60)],
    )
    reason = TextAreaField(
        _l("Reason"),
        [InputRequired(_l("An extension states its reason.")), Length(max=2000)],
        filters=[strip],
    )


class DeliverForm(Form):
    method = SelectField(_l("Method"), choices=[], default="window", validate_choice=False)
    delivered_on = DateField(
        _l("Delivered on"), [InputRequired(_l("Enter the date."))], format="%Y-%m-%d"
    )
    recipient = StringField(
        _l("Received by"),
        [InputRequired(_l("Enter who received it.")), Length(max=120)],
        filters=[strip],
    )
    note = TextAreaField(_l("Note (optional)"), [Length(max=2000)], filters=[strip])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method.choices = _choices(workflow.DELIVERY_METHODS)
        if self.delivered_on.data is None and not self.delivered_on.raw_data:
            self.delivered_on.data = datetime.now(SHANGHAI).date()


class FlagsForm(Form):
    urgent = BooleanField(_l("Urgent (急办)"))
    green_channel = BooleanField(_l("Green channel (key project)"))


class HandoverForm(Form):
    from_user = SelectField(_l("Leaving clerk"), choices=[], validate_choice=False)
    to_user = SelectField(_l("Hand the cases to"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note (optional)"), [Length(max=2000)], filters=[strip])


# Action name (URL segment and form prefix) → (workflow action, form class).
ACTION_FORMS: dict[str, tuple[str, type[Form]]] = {
    "supplement": ("supplemented", Form),
    "notice": ("notice", NoticeForm),
    "accept": ("accepted", NoteForm),
    "refuse": ("refused", ReasonForm),
    "review": ("review", NoteForm),
    "sign": ("signed", SignForm),
    "submit": ("submitted", NoteForm),
    "decide": ("decided", DecideForm),
    "return": ("returned", ReasonForm),
    "pause": ("paused", PauseForm),
    "resume": ("resumed", NoteForm),
    "extend": ("extended", ExtendForm),
    "deliver": ("delivered", DeliverForm),
    "flags": ("flagged", FlagsForm),
}
