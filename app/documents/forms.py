"""The document form (new and edit)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.documents.services import KINDS, Entry
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l


class DocumentForm(Form):
    kind = RadioField(
        _l("Kind of document"),
        choices=[SelectChoice(k, v) for k, v in KINDS.items()],
        default="rules",
        validate_choice=False,
    )
    title = StringField(_l("Document title"), filters=[strip])
    edition = StringField(_l("Version or year"), filters=[strip])
    department = SelectField(_l("Granting department"), choices=[], validate_choice=False)
    window = SelectField(_l("Window (optional)"), choices=[], validate_choice=False)
    granted_by = StringField(_l("Granted by"), filters=[strip])
    valid_from = DateField(_l("Valid from"), [Optional()], format="%Y-%m-%d")
    valid_until = DateField(_l("Valid until (optional)"), [Optional()], format="%Y-%m-%d")
    lock_version = HiddenField()

    def fill_choices(
        self, departments: list[dict[str, Any]], windows: list[dict[str, Any]]
    ) -> None:
        self.department.choices = [("", "—")] + [(str(d["id"]), d["name"]) for d in departments]
        self.window.choices = [("", "—")] + [(str(w["id"]), w["name"]) for w in windows]


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return -1  # not one of the choices: the service refuses it


def entry_of(form: DocumentForm, upload: Any) -> Entry:
    has_file = isinstance(upload, UploadFile) and bool(upload.filename or upload.size)
    return Entry(
        kind=form.kind.data or "",
        title=form.title.data or "",
        edition=form.edition.data or "",
        department_id=_int(form.department.data),
        window_id=_int(form.window.data),
        granted_by=form.granted_by.data or "",
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        upload=upload if has_file else None,
    )


def date_errors(form: DocumentForm) -> dict[str, str]:
    """WTForms' own errors for unparsable dates (kept apart from the service's)."""
    from app.web.i18n import gettext as _

    out = {}
    for name in ("valid_from", "valid_until"):
        if form[name].errors:
            out[name] = _("Enter a date as yyyy-mm-dd.")
            form[name].errors = []
    return out
