"""Backup fixtures: seeded stored files, an empty target database, stores to restore into.

The live database is the worker's test database (shared with other test modules, so counts
are never assumed: a backup is compared with what it was taken from and restored into).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import db, maintenance
from app.backup import postgres_db, sqlite_db
from app.settings import settings
from app.storage.backends import Storage, use_storage
from app.storage.services import StoredFileInfo, delete_file, store_bytes
from tests.conftest import PG_ADMIN, _with
from tests.storage.conftest import (  # noqa: F401  (moto_endpoint is a fixture)
    jpeg_bytes,
    make_backend,
    moto_endpoint,
    pdf_bytes,
    png_bytes,
    user_scope_at,
)

LIVE_URL = settings.maintenance_database_url
APP_ROLE = maintenance.app_role_from_url(settings.database_url)


def samples() -> dict[str, bytes]:
    """A few files of each accepted kind, one larger than a read chunk (256 KiB)."""
    big = pdf_bytes("x" * (700 * 1024))
    return {"a.png": png_bytes(), "b.jpg": jpeg_bytes(), "c.pdf": pdf_bytes("c"), "big.pdf": big}


@pytest.fixture
def live_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Storage]:
    """The store the app writes to while the test seeds files (local, or S3 when asked)."""
    kind = getattr(request, "param", "local")
    store = make_backend(kind, tmp_path / "live", request)
    previous = use_storage(store)
    try:
        yield store
    finally:
        use_storage(previous)


@pytest.fixture
def new_store(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Storage]:
    """``new_store(kind)``: an empty store ("local" folder or a fresh "s3" bucket)."""
    made: list[int] = []

    def make(kind: str = "local") -> Storage:
        made.append(1)
        return make_backend(kind, tmp_path / f"store-{len(made)}", request)

    return make


@pytest.fixture
async def seeded(live_store: Storage) -> AsyncIterator[dict[str, tuple[StoredFileInfo, bytes]]]:
    """The sample files stored through the app for centre xa: key → (info, bytes).

    Their rows are deleted afterwards (the database is shared with other test modules)."""
    scope = await user_scope_at("xa-manager", "xa")
    found = {}
    for name, data in samples().items():
        info = await store_bytes(scope, data, domain="backup", filename=name)
        found[info.key] = (info, data)
    yield found
    for info, _ in found.values():
        await delete_file(scope, info.id)


async def _admin(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(sql)
    finally:
        await con.close()


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database owned by the maintenance role: its maintenance URL.

    SQLite: a path with no file yet.  PostgreSQL: a second database (dropped afterwards).
    """
    if not PG_ADMIN:
        yield f"sqlite:///{tmp_path / 'restored' / 'bianmin.db'}"
        return
    _, maint, _ = os.environ["TEST_PG_CLEANUP"].split(",")
    name = f"bianmin_restore_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(f"CREATE DATABASE {name} OWNER {maint}")
    try:
        yield _with(PG_ADMIN, maint, name)
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def table_counts(url: str) -> dict[str, int]:
    """Rows per table, counted as the maintenance role (every row, whatever the tenant)."""
    if url.startswith("sqlite"):
        return sqlite_db.counts(db.sqlite_path(url))
    return await postgres_db.counts(url)


async def relations(url: str) -> int:
    """Tables in a target database (0: still empty)."""
    if url.startswith("sqlite"):
        return len(sqlite_db.existing_tables(db.sqlite_path(url)))
    return await postgres_db.existing_relations(url)


async def stored_rows(url: str) -> list[tuple[str, int, str]]:
    """(key, size, sha256) of every stored_file row, read directly as the maintenance role."""
    sql = "SELECT storage_key, size, sha256 FROM stored_file ORDER BY id"
    if url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(str(db.sqlite_path(url)))
        try:
            return [(k, int(s), h) for k, s, h in con.execute(sql)]
        finally:
            con.close()
    import asyncpg

    pg: Any = await asyncpg.connect(url)
    try:
        return [(r[0], int(r[1]), r[2]) for r in await pg.fetch(sql)]
    finally:
        await pg.close()
