"""The channel form."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.web.forms import Form, strip
from app.web.i18n import lazy_gettext as _l

KIND_LABELS = {"wecom": _l("WeCom group robot"), "dingtalk": _l("DingTalk group robot")}


class ChannelForm(Form):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    url = StringField(_l("Webhook address"), [DataRequired(), Length(max=500)], filters=[strip])
    enabled = BooleanField(_l("Send messages to this group"), default=True)
