"""Forms of the catalogue import: the upload, and the confirmation of a checked sheet."""

from __future__ import annotations

from wtforms import FileField, HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange, Regexp

from app.web.forms import Form
from app.web.i18n import lazy_gettext as _l


class UploadForm(Form):
    file = FileField(_l("Catalogue sheet (.xlsx)"))


class ConfirmForm(Form):
    """The stored upload and the SHA-256 the supervisor saw in the dry run."""

    upload = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    sha256 = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{64}$")])
