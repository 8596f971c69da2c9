"""The upload helper and verified reads, against both backends."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from typing import Any

import pytest

from app import db
from app.storage import services
from app.storage.backends import CHUNK, Storage
from app.storage.services import (
    FileUnavailable,
    UploadRefused,
    accept_upload,
    delete_file,
    file_info,
    open_verified,
    store_bytes,
)
from app.web.errors import NotFound
from app.web.i18n import gettext
from tests import reliability
from tests.storage.conftest import (
    file_rows,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    stored_keys,
    tamper,
    upload,
    user_scope_at,
)

KEY = re.compile(r"^tenants/xa/test/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
VALID = {
    "jpeg": (jpeg_bytes(), "照片.JPG", "image/jpeg"),
    "png": (png_bytes(), "screenshot.png", "image/png"),
    "pdf": (pdf_bytes(), "营业执照 副本.pdf", "application/pdf"),
}


@pytest.fixture
async def scope() -> Any:
    return await user_scope_at("xa-manager", "xa")


async def stored_bytes(backend: Storage, key: str) -> bytes:
    return b"".join([c async for c in backend.open(key)])


@pytest.mark.parametrize("kind", sorted(VALID))
async def test_valid_files_are_accepted(backend: Storage, scope: Any, kind: str) -> None:
    data, name, mime = VALID[kind]
    # The declared type is a lie; the server decides from the bytes.
    info = await accept_upload(scope, upload(data, name, "text/html"), domain="test")
    assert KEY.match(info.key), info.key
    assert info.content_type == mime
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.filename == name
    assert info.tenant_id == scope.tenant_id and info.created_by_id == scope.user_id
    assert await stored_bytes(backend, info.key) == data
    row = next(r for r in await file_rows() if r["id"] == info.id)
    assert (row["storage_key"], row["sha256"], row["size"], row["content_type"]) == (
        info.key,
        info.sha256,
        len(data),
        mime,
    )
    assert (row["tenant_id"], row["domain"], row["created_by_id"]) == (
        scope.tenant_id,
        "test",
        scope.user_id,
    )
    assert await file_info(scope, info.id) == dataclasses.replace(
        info, created_at=row["created_at"]
    )


async def test_the_filename_is_never_a_path(backend: Storage, scope: Any) -> None:
    info = await accept_upload(scope, upload(pdf_bytes(), "../../../etc/passwd.pdf"), domain="test")
    assert KEY.match(info.key)
    assert info.filename == "passwd.pdf"
    other = await accept_upload(
        scope, upload(pdf_bytes(), "C:\\Users\\x\\evil.html"), domain="test"
    )
    assert other.filename == "evil.html.pdf"  # the real type's extension, for the download
    assert set(stored_keys(backend)) == {info.key, other.key}


async def refused(backend: Storage, scope: Any, item: Any, **kwargs: Any) -> str:
    rows, keys = len(await file_rows()), stored_keys(backend)
    reliability.record("hostile_files" if item else "hostile_inputs")
    with pytest.raises(UploadRefused) as caught:
        await accept_upload(scope, item, domain="test", **kwargs)
    assert len(await file_rows()) == rows, "a refused upload wrote a row"
    assert stored_keys(backend) == keys, "a refused upload stored an object"
    return caught.value.message


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<!doctype html><script>alert(1)</script>", "invoice.pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 8, "scan.pdf"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "photo.png"),
        (b"%PD", "short.pdf"),
    ],
    ids=["html", "exe", "gif", "truncated-magic"],
)
async def test_wrong_type_is_refused(backend: Storage, scope: Any, data: bytes, name: str) -> None:
    message = await refused(backend, scope, upload(data, name, "application/pdf"))
    assert "JPEG" in message and "PNG" in message and "PDF" in message


async def test_allowed_types_can_be_narrowed(backend: Storage, scope: Any) -> None:
    from app.storage.filetypes import PDF

    message = await refused(backend, scope, upload(png_bytes(), "x.png"), allowed=(PDF,))
    assert "PDF" in message and "PNG" not in message


async def test_empty_and_missing_files_are_refused(backend: Storage, scope: Any) -> None:
    empty = await refused(backend, scope, upload(b"", "empty.pdf"))
    assert gettext("The file is empty.") in empty
    for nothing in (upload(b"", ""), None, ""):
        assert gettext("Choose a file to upload.") in await refused(backend, scope, nothing)


async def test_oversize_is_refused_without_reading_it_all(
    backend: Storage, scope: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, upload_max_mb=1)
    )
    limit = 1024 * 1024
    big = upload(pdf_bytes() + b"0" * (3 * limit), "big.pdf")
    read = 0
    original = big.read

    async def counting(size: int = -1) -> bytes:
        nonlocal read
        chunk = await original(size)
        read += len(chunk)
        return chunk

    big.read = counting  # type: ignore[method-assign]
    message = await refused(backend, scope, big)
    assert "1 MB" in message
    assert read <= limit + CHUNK, f"read {read} bytes of an oversize file"
    exact = pdf_bytes() + b"0" * (limit - len(pdf_bytes()))
    info = await accept_upload(scope, upload(exact, "exact.pdf"), domain="test")
    assert info.size == limit


async def test_a_failed_insert_leaves_no_object(
    backend: Storage, scope: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, keys = len(await file_rows()), stored_keys(backend)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.queries, "insert_file", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        await accept_upload(scope, upload(pdf_bytes(), "a.pdf"), domain="test")
    reliability.record("faults")
    stray = set(stored_keys(backend)) ^ set(keys)  # an object without its row
    reliability.record("records_lost", len(stray) + abs(len(await file_rows()) - rows))
    assert stored_keys(backend) == keys
    assert len(await file_rows()) == rows


async def test_not_inside_a_transaction(backend: Storage, scope: Any) -> None:
    async with db.write(scope):
        with pytest.raises(RuntimeError, match="transaction"):
            await accept_upload(scope, upload(pdf_bytes(), "a.pdf"), domain="test")
    assert stored_keys(backend) == []


async def test_only_into_a_writable_tenant(backend: Storage, scope: Any) -> None:
    from app.tenancy import queries as tenancy

    xb = (await tenancy.tree()).by_slug["xb"].id
    with pytest.raises(NotFound):
        await store_bytes(scope, pdf_bytes(), domain="test", filename="x.pdf", tenant_id=xb)
    assert stored_keys(backend) == []


@pytest.mark.parametrize("domain", ["", "a/b", "../x", "Cases", "x" * 40])
async def test_domain_is_one_plain_key_segment(backend: Storage, scope: Any, domain: str) -> None:
    with pytest.raises(ValueError, match="storage domain"):
        await store_bytes(scope, pdf_bytes(), domain=domain, filename="x.pdf")
    assert stored_keys(backend) == []


async def test_verified_read_returns_the_bytes(backend: Storage, scope: Any) -> None:
    data = pdf_bytes("x" * 300_000)
    info = await store_bytes(scope, data, domain="test", filename="a.pdf")
    verified = await open_verified(info)
    assert await verified.read() == data


@pytest.mark.parametrize("damage", ["same-size", "truncated", "longer", "deleted"])
async def test_a_corrupted_object_is_refused_and_logged(
    backend: Storage, scope: Any, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = pdf_bytes("original text")
    info = await store_bytes(scope, data, domain="test", filename="a.pdf")
    if damage == "same-size":
        tamper(backend, info.key, data.replace(b"original", b"ORIGINAL"))
    elif damage == "truncated":
        tamper(backend, info.key, data[:-5])
    elif damage == "longer":
        tamper(backend, info.key, data + b"appended")
    else:
        await backend.delete(info.key)
    reliability.record("faults")
    with caplog.at_level(logging.WARNING, logger="bianmin.storage"):
        with pytest.raises(FileUnavailable) as caught:
            await open_verified(info)
    assert caught.value.file_id == info.id and caught.value.key == info.key
    logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert logged and str(info.id) in logged[-1].getMessage()
    assert info.key in logged[-1].getMessage()


async def test_delete_removes_row_and_object(backend: Storage, scope: Any) -> None:
    info = await store_bytes(scope, png_bytes(), domain="test", filename="a.png")
    assert await delete_file(scope, info.id)
    assert not await backend.exists(info.key)
    assert info.id not in {r["id"] for r in await file_rows()}
    assert not await delete_file(scope, info.id)
    with pytest.raises(NotFound):
        await file_info(scope, info.id)
