"""The circular form (issue) and the acknowledgement note."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.circulars.services import Draft
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l


class CircularForm(Form):
    title = StringField(_l("Circular title"), filters=[strip])
    body = TextAreaField(_l("Circular text"), filters=[strip])
    link = StringField(_l("Linked results"), filters=[strip])
    recipients = RadioField(
        _l("Recipients"),
        choices=[
            SelectChoice("all", _l("Every centre below")),
            SelectChoice("chosen", _l("Chosen centres")),
        ],
        default="all",
        validate_choice=False,
    )


class AcknowledgeForm(Form):
    note = TextAreaField(_l("Note on reading (optional)"), filters=[strip])


def chosen_ids(formdata: FormData | None) -> list[int]:
    out = []
    for value in formdata.getlist("centre") if formdata is not None else []:
        try:
            out.append(int(str(value)))
        except ValueError:
            continue
    return out


def uploads(formdata: FormData | None) -> list[Any]:
    return [
        f
        for f in (formdata.getlist("files") if formdata is not None else [])
        if isinstance(f, UploadFile) and (f.filename or f.size)
    ]


def draft_of(form: CircularForm, formdata: FormData) -> Draft:
    return Draft(
        title=form.title.data or "",
        body=form.body.data or "",
        link=form.link.data or "",
        everyone=(form.recipients.data or "all") != "chosen",
        chosen=chosen_ids(formdata),
        uploads=uploads(formdata),
    )
