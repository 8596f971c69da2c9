"""The form of one adopted item: window, A/B posts, a tighter promised limit, local notes."""

from __future__ import annotations

from typing import Any

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from app.catalogue.adoption import Settings
from app.web.forms import Form, strip
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l


class AdoptionForm(Form):
    posts_for = HiddenField()  # the window whose A/B posts the selects show
    window = SelectField(_l("Window"), choices=[], validate_choice=False)
    a_post = SelectField(_l("A post (main)"), choices=[], validate_choice=False)
    b_post = SelectField(_l("B post (stand-in)"), choices=[], validate_choice=False)
    promised_days = StringField(
        _l("Promised time limit (working days)"), [Length(max=12)], filters=[strip]
    )
    local_note = TextAreaField(_l("Local notes"), [Length(max=2000)], filters=[strip])

    def set_choices(
        self, windows: list[dict[str, Any]], staff: list[dict[str, Any]], department: str
    ) -> None:
        serving = [w for w in windows if any(d["code"] == department for d in w["departments"])]
        others = [w for w in windows if w not in serving]
        self.window_groups = [
            (_("Windows serving this department"), [(str(w["id"]), w["name"]) for w in serving]),
            (_("Other windows"), [(str(w["id"]), w["name"]) for w in others]),
        ]
        self.window.choices = [("", _("— no window —"))] + [
            choice for _label, choices in self.window_groups for choice in choices
        ]
        people = [("", _("— unchanged —"))] + [
            (str(m["user_id"]), m["display_name"]) for m in staff if m["active"]
        ]
        self.a_post.choices = people
        self.b_post.choices = list(people)

    def settings(self) -> Settings:
        return Settings(
            window_id=as_int(self.window.data),
            a_user_id=as_int(self.a_post.data),
            b_user_id=as_int(self.b_post.data),
            promised_days=self.promised_days.data or "",
            local_note=self.local_note.data or "",
        )


def as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None
