"""Posted form data as the reports' forms read it: text only."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MultiDict


def texts(formdata: Any) -> MultiDict:
    """The text values of a post; a file part named like a text field is left out (WTForms
    would hand the UploadFile to code that strips or parses text: a 500)."""
    return MultiDict((k, v) for k, v in formdata.multi_items() if isinstance(v, str))
