"""GET /t/{slug}/files/{file_id}: scope first, verified bytes, attachment, server-set type."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import quote

import pytest

from app.storage.backends import Storage
from app.storage.services import StoredFileInfo, store_bytes
from tests import reliability
from tests.conftest import login
from tests.storage.conftest import pdf_bytes, png_bytes, tamper, user_scope_at

CHINESE = "营业执照（副本）2024.pdf"
TOKENS = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")[^"]*"')


def same_page(text: str, file_id: int) -> str:
    """The page with its own path and the session's tokens masked."""
    return TOKENS.sub(r"\1…", text.replace(f"/t/xa/files/{file_id}", "{PATH}"))


def stored(username: str, slug: str, data: bytes, filename: str) -> StoredFileInfo:
    async def go() -> StoredFileInfo:
        scope = await user_scope_at(username, slug)
        return await store_bytes(scope, data, domain="test", filename=filename)

    return asyncio.run(go())


def test_download_headers_and_chinese_name(backend: Storage, client: Any) -> None:
    data = pdf_bytes("a" * 500_000)
    info = stored("xa-clerk", "xa", data, CHINESE)
    login(client, "xa-manager")
    response = client.get(f"/t/xa/files/{info.id}")
    assert response.status_code == 200, response.text[:300]
    assert response.content == data
    headers = response.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["content-length"] == str(len(data))
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "private, no-store"
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(CHINESE, safe='')}" in disposition
    assert 'filename="()2024.pdf"' in disposition  # an ASCII fallback for old clients
    disposition.encode("latin-1")  # a valid header value
    head = client.head(f"/t/xa/files/{info.id}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-disposition"] == disposition


def test_type_is_the_servers_and_a_clerk_may_download(backend: Storage, client: Any) -> None:
    info = stored("xa-manager", "xa", png_bytes(), "page.html")
    login(client, "xa-clerk")
    response = client.get(f"/t/xa/files/{info.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert 'filename="page.html.png"' in response.headers["content-disposition"]


def test_another_tenants_file_is_missing(backend: Storage, client: Any) -> None:
    theirs = stored("xb-manager", "xb", pdf_bytes("CANARYB"), "CANARYB.pdf")
    login(client, "xa-manager")
    own_slug = reliability.cross_tenant(client.get(f"/t/xa/files/{theirs.id}"), shows="CANARYB")
    missing = client.get(f"/t/xa/files/{2**31 - 1}")
    assert own_slug.status_code == missing.status_code == 404
    assert same_page(own_slug.text, theirs.id) == same_page(missing.text, 2**31 - 1)
    assert "CANARYB" not in own_slug.text
    assert reliability.cross_tenant(client.get(f"/t/xb/files/{theirs.id}")).status_code == 404
    assert client.get("/t/xa/files/not-a-number").status_code == 404


def test_division_supervisor_reads_it_under_its_own_tenant_only(
    backend: Storage, client: Any
) -> None:
    theirs = stored("xb-manager", "xb", pdf_bytes(), "x.pdf")
    login(client, "d4-liuhong")
    assert client.get(f"/t/xb/files/{theirs.id}").status_code == 200
    assert client.get(f"/t/d4/files/{theirs.id}").status_code == 404


def test_anonymous_is_sent_to_login(backend: Storage, client: Any) -> None:
    info = stored("xa-manager", "xa", pdf_bytes(), "x.pdf")
    response = client.get(f"/t/xa/files/{info.id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/t/xa/files/{info.id}"


def test_a_corrupted_file_is_an_error_page(
    backend: Storage, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    data = pdf_bytes("original")
    info = stored("xa-manager", "xa", data, "x.pdf")
    tamper(backend, info.key, data.replace(b"original", b"tampered"))
    reliability.record("faults")
    login(client, "xa-manager")
    with caplog.at_level(logging.WARNING, logger="bianmin.storage"):
        response = client.get(f"/t/xa/files/{info.id}", headers={"Accept-Language": "en"})
    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/html")
    assert "attachment" not in response.headers.get("content-disposition", "")
    assert "tampered" not in response.text and "Traceback" not in response.text
    assert '<main id="content"' in response.text
    assert any(
        info.key in r.getMessage() and str(info.id) in r.getMessage() for r in caplog.records
    )
