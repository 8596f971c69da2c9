"""A refused upload is a message on the form's file field (422), the other input kept.

A tiny Starlette route defined here plays a domain's form handler; it uses the real helper,
the project's WTForms base class and the real ``field`` macro.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from wtforms import FileField, StringField

from app.storage.backends import Storage
from app.storage.filetypes import accept
from app.storage.services import UploadRefused, accept_upload
from app.web import i18n
from app.web.forms import Form
from app.web.templating import templates
from tests import reliability
from tests.storage.conftest import file_rows, jpeg_bytes, pdf_bytes, stored_keys, user_scope_at

PAGE = templates.env.from_string(
    '{% from "web/forms.html" import field %}'
    '<form method="post" enctype="multipart/form-data">'
    "{{ field(form.note) }}{{ field(form.file, attrs={'accept': accept}) }}</form>"
)


class MaterialForm(Form):
    note = StringField("Note")
    file = FileField("File")


def make_app(scope: Any) -> Starlette:
    async def material(request: Request) -> Response:
        form = await MaterialForm.from_request(request)
        if request.method == "POST" and form.validate():
            try:
                info = await accept_upload(scope, form.file.data, domain="test")
            except UploadRefused as exc:
                form.add_error("file", exc.message)
            else:
                return RedirectResponse(f"/done/{info.id}", status_code=303)
        html = PAGE.render(form=form, accept=accept())
        return HTMLResponse(html, status_code=422 if request.method == "POST" else 200)

    return Starlette(routes=[Route("/material", material, methods=["GET", "POST"])])


@pytest.fixture
def form_client(backend: Storage) -> Any:
    scope = asyncio.run(user_scope_at("xa-clerk", "xa"))
    with TestClient(make_app(scope), follow_redirects=False) as client:
        yield client


def message(text: str, **variables: Any) -> str:
    """The message as the (default, zh_Hans) catalogue renders it, HTML-escaped."""
    from markupsafe import escape

    return str(escape(i18n.gettext(text, **variables)))


def test_the_form_shows_an_accept_hint(form_client: Any) -> None:
    page = form_client.get("/material")
    assert 'type="file"' in page.text
    assert 'accept="image/jpeg,image/png,application/pdf"' in page.text


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (
            b"<html><body>not a pdf</body></html>",
            "fake.pdf",
            ("This type of file is not accepted. Allowed: %(types)s.", {"types": "JPEG、PNG、PDF"}),
        ),
        (b"", "empty.pdf", ("The file is empty.", {})),
    ],
    ids=["wrong-type", "empty"],
)
def test_refused_file_is_a_field_message(
    backend: Storage, form_client: Any, data: bytes, name: str, expected: Any
) -> None:
    rows = len(asyncio.run(file_rows()))
    response = reliability.hostile(
        form_client.post,
        "/material",
        data={"note": "第一份材料"},
        files={"file": (name, data, "application/pdf")},
    )
    assert response.status_code == 422
    text, variables = expected
    assert f'<p class="error">{message(text, **variables)}</p>' in response.text
    assert 'class="field has-error"' in response.text
    assert 'value="第一份材料"' in response.text  # what the user typed is kept
    assert stored_keys(backend) == []
    assert len(asyncio.run(file_rows())) == rows


def test_no_file_chosen(backend: Storage, form_client: Any) -> None:
    response = reliability.hostile(
        form_client.post,
        "/material",
        data={"note": "x"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert message("Choose a file to upload.") in response.text


def test_a_good_file_is_stored(backend: Storage, form_client: Any) -> None:
    for data in (jpeg_bytes(), pdf_bytes()):
        response = form_client.post(
            "/material", data={"note": "x"}, files={"file": ("材料", data, "text/plain")}
        )
        assert response.status_code == 303, response.text
    assert len(stored_keys(backend)) == 2
