"""WTForms on Starlette: server-side validation, Chinese messages, CSRF handled by middleware."""

from __future__ import annotations

from typing import Any, Self

import wtforms
from starlette.requests import Request

from app.web import i18n


class Form(wtforms.Form):
    class Meta:
        csrf = False

        @property
        def locales(self) -> list[str]:
            return ["zh"] if i18n.get_locale() == "zh_Hans" else ["en"]

    @classmethod
    async def from_request(cls, request: Request, **kwargs: Any) -> Self:
        formdata = await request.form() if request.method == "POST" else None
        return cls(formdata=formdata, **kwargs)

    def add_error(self, field: str, message: str) -> None:
        errors = self[field].errors
        if isinstance(errors, tuple):
            errors = list(errors)
        errors.append(message)
        self[field].errors = errors


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
