"""The reviewers' forms: approve or return a report, grant a lock exception."""

from __future__ import annotations

from wtforms import DateField, IntegerField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

DECISIONS = ("approve", "return")


class ReviewForm(Form):
    """``decision`` comes from the button pressed (approve / return)."""

    reason = TextAreaField(_l("Reason for returning (the centre sees it)"), filters=[strip])
    lock_version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ExceptionForm(Form):
    reason = TextAreaField(_l("Reason for the exception"), filters=[strip])
    until = DateField(_l("The centre may file until (last day)"), [Optional()], format="%Y-%m-%d")
