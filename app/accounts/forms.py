"""Forms for login, passwords and staff."""

from __future__ import annotations

from wtforms import (
    PasswordField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from app.accounts.roles import ROLE_LABELS, ROLES
from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

USERNAME_RULE = Regexp(
    r"^[a-z0-9][a-z0-9._-]{2,63}$",
    message=_l("3–64 characters: lower-case letters, digits, dot, dash or underscore."),
)


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(Form):
    username = StringField(_l("Username"), [DataRequired(), Length(max=64)], filters=[strip])
    password = PasswordField(_l("Password"), [DataRequired(), Length(max=128)])


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), [DataRequired()])
    new = PasswordField(_l("New password"), [DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class SetPasswordForm(Form):
    new = PasswordField(_l("New password"), [DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


def role_choices(include_supervisor: bool) -> list[tuple[str, str]]:
    return [(r, str(ROLE_LABELS[r])) for r in ROLES if include_supervisor or r != "supervisor"]


class StaffEditForm(Form):
    title = StringField(_l("Post or title"), [Length(max=64)], filters=[strip])
    roles = CheckboxesField(_l("Roles"), [DataRequired(message=_l("Choose at least one role."))])
    departments = CheckboxesField(_l("Departments"), coerce=int)


class StaffForm(StaffEditForm):
    username = StringField(_l("Username"), [DataRequired(), USERNAME_RULE], filters=[strip])
    display_name = StringField(_l("Full name"), [DataRequired(), Length(max=64)], filters=[strip])
