"""WTForms on Starlette: server-side validation, Chinese messages, CSRF handled by middleware."""

from __future__ import annotations

from typing import Any, Self

import wtforms
from starlette.requests import Request
from wtforms.meta import DefaultMeta

from app.web import i18n


class WithoutNul:
    """Posted form data with NUL characters taken out of the text values: PostgreSQL cannot
    store them in text columns (it would be a 500), and no one types one on purpose."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def getlist(self, name: str) -> list[Any]:
        return [
            v.replace("\x00", "") if isinstance(v, str) else v for v in self._data.getlist(name)
        ]


class Form(wtforms.Form):
    class Meta:
        csrf = False

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            wrapped = DefaultMeta.wrap_formdata(self, form, formdata)
            return None if wrapped is None else WithoutNul(wrapped)

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
