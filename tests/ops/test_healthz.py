"""``/healthz``: database, broker and storage reported separately; one failing gives 503 with
only that one in error, and the answer never shows a URL, host or credential."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import db
from app.ops import health
from app.settings import settings
from app.storage.backends import use_storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from tests import reliability
from tests.storage.conftest import REGION, s3_client

COMPONENTS = ("database", "broker", "storage")


@pytest.fixture
def healthz(app: Any) -> Iterator[Any]:
    with TestClient(app, raise_server_exceptions=False) as c:

        def get() -> tuple[int, dict[str, str], str]:
            response = c.get("/healthz")
            assert response.headers["cache-control"] == "no-store"
            return response.status_code, response.json(), response.text

        yield get


def only_failing(body: dict[str, str], component: str) -> None:
    assert body["status"] == "error"
    assert body[component].startswith("error: "), body
    for other in COMPONENTS:
        if other != component:
            assert body[other] == "ok", body


def test_all_well_is_200_with_each_component(healthz: Any) -> None:
    status, body, _ = healthz()
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}


def test_a_dead_database_is_reported_alone(app: Any) -> None:
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.engine.sqlite import SQLiteEngine

    good = db.engine()
    if db.is_postgres():
        dead: Any = PostgresEngine(config={"dsn": "postgresql://nobody:pw@127.0.0.1:1/none"})
    else:
        dead = SQLiteEngine(path="/dev/null/cannot/x.db")
    reliability.record("faults")
    db.use_engine(dead)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            response = c.get("/healthz")
    finally:
        db.use_engine(good)
    assert response.status_code == 503
    only_failing(response.json(), "database")
    assert "127.0.0.1" not in response.text and "/dev/null" not in response.text


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@127.0.0.1:1/0",
        "amqp://guest:hunter2@127.0.0.1:1/%2F",
        "postgresql://queue:hunter2@127.0.0.1:1/queue",
        "kafka://127.0.0.1:1",
    ],
)
def test_a_broken_broker_url_is_reported_alone(
    healthz: Any, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setattr(health, "settings", dataclasses.replace(settings, broker_url=url))
    reliability.record("faults")
    status, body, text = healthz()
    assert status == 503
    only_failing(body, "broker")
    for secret in ("hunter2", "127.0.0.1", "guest", "queue:"):
        assert secret not in text


def test_unwritable_storage_is_reported_alone(healthz: Any, tmp_path: Path) -> None:
    previous = use_storage(LocalStorage(Path("/dev/null/files")))  # not a directory
    reliability.record("faults")
    try:
        status, body, text = healthz()
    finally:
        use_storage(previous)
    assert status == 503
    only_failing(body, "storage")
    assert "/dev/null" not in text


def test_a_read_only_storage_folder_is_reported(healthz: Any, tmp_path: Path) -> None:
    """A folder that exists but refuses a new file (a file stands where it should be)."""
    root = tmp_path / "files"
    root.write_bytes(b"not a folder")
    previous = use_storage(LocalStorage(root))
    reliability.record("faults")
    try:
        status, body, _ = healthz()
    finally:
        use_storage(previous)
    assert status == 503
    only_failing(body, "storage")
    assert list(tmp_path.iterdir()) == [root]  # the probe left nothing behind


def test_s3_storage_is_checked_with_head_bucket(healthz: Any, moto_endpoint: str) -> None:
    bucket = f"bianmin-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=bucket)
    previous = use_storage(S3Storage(bucket, endpoint_url=moto_endpoint, region=REGION))
    try:
        status, body, _ = healthz()
        assert status == 200 and body["storage"] == "ok"
        use_storage(S3Storage(f"{bucket}-gone", endpoint_url=moto_endpoint, region=REGION))
        reliability.record("faults")
        status, body, text = healthz()
    finally:
        use_storage(previous)
    assert status == 503
    only_failing(body, "storage")
    assert bucket not in text and moto_endpoint not in text


def test_a_hung_component_times_out_without_holding_the_others(
    healthz: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hangs() -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(health, "TIMEOUT", 0.3)
    monkeypatch.setitem(health.CHECKS, "broker", hangs)
    reliability.record("faults")
    started = time.perf_counter()
    status, body, _ = healthz()
    assert time.perf_counter() - started < 2.0
    assert status == 503
    only_failing(body, "broker")
    assert body["broker"] == "error: timeout"


def test_checks_run_concurrently(healthz: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def slow() -> None:
        await asyncio.sleep(0.4)

    for name in COMPONENTS:
        monkeypatch.setitem(health.CHECKS, name, slow)
    started = time.perf_counter()
    status, _, _ = healthz()
    assert status == 200
    assert time.perf_counter() - started < 1.0  # three times 0.4 s, side by side
