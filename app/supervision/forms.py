"""The supervision forms: the yellow margin N (黄灯提前量)."""

from __future__ import annotations

from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

MIN_DAYS, MAX_DAYS = 0, 10


class SettingForm(Form):
    yellow_days = IntegerField(
        _l("Yellow margin N (working days before the promised date)"),
        [
            InputRequired(_l("Enter the number of working days (0 to 10).")),
            NumberRange(MIN_DAYS, MAX_DAYS, _l("N must be a whole number from 0 to 10.")),
        ],
    )
    note = TextAreaField(
        _l("Note on the yellow margin"), [Optional(), Length(max=500)], filters=[strip]
    )
    lock_version = IntegerField(widget=HiddenInput(), validators=[Optional()])
