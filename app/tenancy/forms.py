"""Forms for onboarding a centre."""

from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.accounts.forms import USERNAME_RULE
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

KIND_LABELS = {
    "division": _l("Division"),
    "regiment": _l("Regiment"),
    "community": _l("Community"),
}
STATUS_LABELS = {
    "pilot": _l("Pilot"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
}


class TenantForm(Form):
    parent_id = SelectField(_l("Parent centre"), coerce=int, validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=[("regiment", KIND_LABELS["regiment"]), ("community", KIND_LABELS["community"])],
    )
    name = StringField(
        _l("Full name of the centre"), [DataRequired(), Length(max=120)], filters=[strip]
    )
    slug = StringField(
        _l("Short name in addresses"),
        [
            DataRequired(),
            Regexp(
                r"^[a-z][a-z0-9-]{1,30}$",
                message=_l(
                    "2–31 characters: lower-case letters, digits and dashes; a letter first."
                ),
            ),
        ],
        filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
    )
    status = SelectField(
        _l("Status"),
        choices=[("pilot", STATUS_LABELS["pilot"]), ("active", STATUS_LABELS["active"])],
    )
    manager_username = StringField(
        _l("Manager's username"), [DataRequired(), USERNAME_RULE], filters=[strip]
    )
    manager_name = StringField(
        _l("Manager's full name"), [DataRequired(), Length(max=64)], filters=[strip]
    )


class StatusForm(Form):
    status = SelectField(_l("Status"), choices=[(k, v) for k, v in STATUS_LABELS.items()])
