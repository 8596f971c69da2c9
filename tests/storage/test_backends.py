"""The storage interface, run against both backends: round trip, streaming, key safety."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from app.storage.backends import InvalidKey, ObjectMissing, Storage, check_key, from_url
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from tests import reliability
from tests.storage.conftest import stored_keys

KEY = "tenants/xa/test/0b7f3a8e-5f0e-4d1c-9d57-2b1f0d1e6a11"


async def read_all(store: Storage, key: str, chunk_size: int = 64 * 1024) -> bytes:
    return b"".join([c async for c in store.open(key, chunk_size)])


async def test_round_trip(backend: Storage) -> None:
    assert not await backend.exists(KEY)
    await backend.put(KEY, b"first", "application/pdf")
    assert await backend.exists(KEY)
    assert await read_all(backend, KEY) == b"first"
    await backend.put(KEY, io.BytesIO(b"second, from a file object"), "application/pdf")
    assert await read_all(backend, KEY) == b"second, from a file object"
    await backend.delete(KEY)
    assert not await backend.exists(KEY)
    await backend.delete(KEY)  # deleting twice is not an error
    assert stored_keys(backend) == []


async def test_reads_stream_in_chunks(backend: Storage) -> None:
    data = os.urandom(700_000)
    await backend.put(KEY, io.BytesIO(data))
    chunks = [c async for c in backend.open(KEY, 100_000)]
    assert len(chunks) >= 7 and max(len(c) for c in chunks) <= 100_000
    assert b"".join(chunks) == data


async def test_missing_object(backend: Storage) -> None:
    with pytest.raises(ObjectMissing):
        await read_all(backend, KEY)


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        "tenants/../../outside",
        "tenants/xa/../../../etc/passwd",
        "/etc/passwd",
        "tenants//xa",
        "tenants/./xa",
        "tenants/xa/.hidden",
        "tenants\\xa",
        "tenants/xa/\x00",
        "",
        "a" * 600,
    ],
)
async def test_bad_keys_are_refused(backend: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await backend.put(key, b"x")
    with pytest.raises(InvalidKey):
        await backend.exists(key)
    with pytest.raises(InvalidKey):
        await read_all(backend, key)
    with pytest.raises(InvalidKey):
        await backend.delete(key)
    assert stored_keys(backend) == []


async def test_local_never_follows_a_link_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "files", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    (root / "tenants").mkdir(parents=True)
    (root / "tenants" / "xa").symlink_to(outside, target_is_directory=True)
    store = LocalStorage(root)
    with pytest.raises(InvalidKey):
        await read_all(store, "tenants/xa/secret")
    with pytest.raises(InvalidKey):
        await store.put("tenants/xa/new", b"x")
    with pytest.raises(InvalidKey):
        await store.delete("tenants/xa/secret")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


async def test_local_write_is_atomic(tmp_path: Path) -> None:
    """A write that fails half-way leaves the old object and no temporary file behind."""
    store = LocalStorage(tmp_path / "files")
    await store.put(KEY, b"old")

    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk went away")
            buffer[:3] = b"new"
            return 3

    with pytest.raises(OSError, match="disk went away"):
        await store.put(KEY, io.BufferedReader(Broken(), 3))  # type: ignore[arg-type]
    kept = await read_all(store, KEY)
    reliability.record("faults")
    # The old object lost, or a temporary file left beside it.
    reliability.record("records_lost", int(kept != b"old") + len(set(stored_keys(store)) - {KEY}))
    assert kept == b"old"
    assert stored_keys(store) == [KEY]


def test_check_key_accepts_the_key_scheme() -> None:
    assert check_key(KEY) == KEY


def test_storage_url_selects_the_backend(tmp_path: Path) -> None:
    local = from_url("", tmp_path)
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "files"
    folder = from_url("file:///srv/bianmin-files", tmp_path)
    assert isinstance(folder, LocalStorage) and folder.root == Path("/srv/bianmin-files")
    s3 = from_url("s3://bm-files?endpoint_url=http://127.0.0.1:9000&region=cn-north-1", tmp_path)
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.endpoint_url, s3.region) == (
        "bm-files",
        "http://127.0.0.1:9000",
        "cn-north-1",
    )
    plain = from_url("s3://bm-files", tmp_path)
    assert isinstance(plain, S3Storage) and plain.endpoint_url is None
    for bad in ("ftp://x/y", "s3://", "s3://bucket/prefix", "s3://b?endpoint=x", "file://host/x"):
        with pytest.raises(ValueError):
            from_url(bad, tmp_path)


def test_s3_client_is_path_style(moto_endpoint: str) -> None:
    store = S3Storage("some-bucket", endpoint_url=moto_endpoint, region="us-east-1")
    client = store.client()
    assert client.meta.config.s3["addressing_style"] == "path"
    url = client.generate_presigned_url("get_object", Params={"Bucket": "some-bucket", "Key": KEY})
    assert url.startswith(f"{moto_endpoint}/some-bucket/tenants/xa/")
