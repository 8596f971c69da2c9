"""Storage fixtures: both backends (a temporary folder; S3 on moto in server mode), samples."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.storage.backends import Storage, use_storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

REGION = "us-east-1"
BACKENDS = ["local", "s3"]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real HTTP S3 endpoint on a random local port (dummy credentials, no config files)."""
    from moto.server import ThreadedMotoServer

    env = pytest.MonkeyPatch()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        env.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.delenv(name, raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        env.undo()


def s3_client(endpoint: str) -> Any:
    """A plain boto3 client (path-style) for setting up and tampering behind the app's back."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}),
    )


def make_backend(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Storage:
    if kind == "local":
        return LocalStorage(tmp_path / "files")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"bianmin-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return S3Storage(bucket, endpoint_url=endpoint, region=REGION)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Each backend in turn, installed as the process's storage for the test."""
    store = make_backend(request.param, tmp_path, request)
    previous = use_storage(store)
    try:
        yield store
    finally:
        use_storage(previous)


def stored_keys(store: Storage) -> list[str]:
    """Every object key in the backend (temporary files included, for the local folder)."""
    if isinstance(store, LocalStorage):
        if not store.root.exists():
            return []
        return sorted(
            p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
        )
    assert isinstance(store, S3Storage)
    client = s3_client(store.endpoint_url or "")
    listing = client.list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def tamper(store: Storage, key: str, data: bytes) -> None:
    """Overwrite the bytes behind ``key`` directly (not through the app)."""
    if isinstance(store, LocalStorage):
        store.path(key).write_bytes(data)
        return
    assert isinstance(store, S3Storage)
    s3_client(store.endpoint_url or "").put_object(Bucket=store.bucket, Key=key, Body=data)


# --- sample files ---------------------------------------------------------------------


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """A JPEG/JFIF start (SOI + APP0) followed by filler and EOI: what the sniffing sees."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + bytes(range(256)) * 4 + b"\xff\xd9"


def pdf_bytes(text: str = "hello") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% "
        + text.encode()
        + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def upload(data: bytes, filename: str, content_type: str = "application/pdf") -> Any:
    """A Starlette UploadFile as the multipart parser would hand it to a view."""
    import tempfile

    from starlette.datastructures import Headers, UploadFile

    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    spool.write(data)
    spool.seek(0)
    return UploadFile(
        file=spool,
        size=len(data),
        filename=filename,
        headers=Headers({"content-type": content_type}),
    )


@pytest.fixture
def samples() -> dict[str, bytes]:
    return {"jpeg": jpeg_bytes(), "png": png_bytes(), "pdf": pdf_bytes()}


def bio(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


async def user_scope_at(username: str, slug: str) -> Any:
    """The scope ``username`` gets at tenant ``slug`` (as the tenant middleware builds it)."""
    from app.accounts import queries as accounts
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import for_user, user_scope

    tree = await tenancy.tree()
    row = await accounts.user_by_username(username)
    assert row is not None, username
    mine = await accounts.my_memberships(user_scope(row["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, row["id"], mine, bool(row["is_platform_admin"]))
    assert scope is not None
    return scope


async def file_rows() -> list[dict[str, Any]]:
    """Every stored-file row (read under the system scope, so RLS lets the test see them)."""
    from app import db
    from app.storage.tables import StoredFile
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    async with db.read(system_scope(await tenancy.tree(), reason="test")):
        return await StoredFile.select().order_by(StoredFile.id)
