"""Backup → wipe → restore: every table's rows and every file's SHA-256 come back.

Runs on SQLite in ``make test`` and on PostgreSQL in ``make test-pg`` (a second, empty
database owned by the maintenance role is the restore target).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.backup import manifest
from app.backup.files import digest_of
from app.backup.restore import restore
from app.backup.snapshot import backup
from app.storage.backends import Storage
from app.storage.services import StoredFileInfo
from tests import reliability
from tests.backup.conftest import APP_ROLE, LIVE_URL, stored_rows, table_counts
from tests.conftest import PG_ADMIN, _with
from tests.storage.conftest import stored_keys


def lost_rows(expected: dict[str, int], found: dict[str, int]) -> int:
    """Rows missing or duplicated, summed over every table of either side."""
    return sum(abs(expected.get(t, 0) - found.get(t, 0)) for t in set(expected) | set(found))


@pytest.mark.parametrize("live_store", ["local", "s3"], indirect=True)
async def test_backup_wipe_restore(
    tmp_path: Path,
    live_store: Storage,
    seeded: dict[str, tuple[StoredFileInfo, bytes]],
    new_store: Callable[[str], Storage],
    empty_database: str,
    request: pytest.FixtureRequest,
) -> None:
    kind = request.node.callspec.params["live_store"]
    live_counts = await table_counts(LIVE_URL)
    live_files = await stored_rows(LIVE_URL)

    result = await backup(tmp_path / "backup", LIVE_URL, live_store)
    m = result.manifest
    assert m.tables == live_counts  # nothing else wrote in between
    assert m.tables["stored_file"] == len(live_files) >= len(seeded)
    copied = {f.key: f for f in m.files}
    assert set(seeded) <= set(copied)
    for key, (info, data) in seeded.items():
        assert (copied[key].size, copied[key].sha256) == (len(data), info.sha256)
        assert manifest.file_path(result.path, key).read_bytes() == data
    # Rows other test modules left behind name objects of their own (deleted) stores.
    assert {u.key for u in m.unavailable} == {k for k, _, _ in live_files} - set(copied)
    assert all(u.reason == "missing from the store" for u in m.unavailable)

    # Wipe: a new, empty database and an empty store of the same kind.
    target, wiped = empty_database, new_store(kind)
    reliability.record("faults")
    assert stored_keys(wiped) == []

    restored = await restore(result.path, target, wiped, APP_ROLE)
    assert restored.files_uploaded == len(m.files)
    found = await table_counts(target)
    lost = lost_rows(m.tables, found)
    restored_files = await stored_rows(target)
    lost += len(set(live_files) ^ set(restored_files))
    for entry in m.files:
        if await digest_of(wiped, entry.key) != (entry.size, entry.sha256):
            lost += 1
    for key, (_, data) in seeded.items():
        back = b"".join([c async for c in wiped.open(key)])
        lost += hashlib.sha256(back).hexdigest() != hashlib.sha256(data).hexdigest()
    reliability.record("records_lost", lost)
    assert found == m.tables
    assert lost == 0
    assert sorted(stored_keys(wiped)) == sorted(copied)
    if PG_ADMIN:
        await app_role_can_use(target, m.tables["stored_file"])


async def app_role_can_use(target: str, files: int) -> None:
    """After restore the app role has its grants back, and row-level security still binds."""
    from urllib.parse import urlparse

    import asyncpg

    url = _with(PG_ADMIN, APP_ROLE or "", urlparse(target).path.lstrip("/"))
    con: Any = await asyncpg.connect(url)
    try:
        assert await con.fetchval("SELECT count(*) FROM stored_file") == 0  # no scope: no rows
        async with con.transaction():
            ids = ",".join(str(r[0]) for r in await con.fetch("SELECT id FROM tenant"))
            await con.execute("SELECT set_config('app.read_ids', $1, true)", ids)
            assert await con.fetchval("SELECT count(*) FROM stored_file") == files
        forced = await con.fetchval(
            "SELECT bool_and(relforcerowsecurity) FROM pg_class WHERE relname = 'stored_file'"
        )
        assert forced
    finally:
        await con.close()


async def test_the_command_line_round_trip(
    tmp_path: Path,
    live_store: Storage,
    seeded: dict[str, tuple[StoredFileInfo, bytes]],
    new_store: Callable[[str], Storage],
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio
    import dataclasses

    from app.__main__ import main
    from app.backup import commands
    from app.settings import settings
    from app.storage.backends import use_storage

    async def cli(*argv: str) -> int:  # the command runs its own event loop
        return await asyncio.to_thread(main, list(argv))

    dest = tmp_path / "nightly" / "2026-01-04-0230"
    assert await cli("backup", str(dest)) in (0, 3)  # 3: other modules' files are gone
    out = capsys.readouterr().out
    assert f"Backup written to {dest}" in out and "copied and verified" in out
    assert await cli("backup", str(dest)) == 2  # never into a non-empty directory
    assert "not empty" in capsys.readouterr().err
    assert await cli("restore", "--check", str(dest)) == 0
    assert "is intact" in capsys.readouterr().out

    assert await cli("backup", "--prune", str(dest.parent), "--dry-run") == 0
    assert "1 kept, 0 would remove" in capsys.readouterr().out

    target_settings = dataclasses.replace(settings, maintenance_database_url=empty_database)
    monkeypatch.setattr(commands, "settings", target_settings)
    wiped = new_store("local")
    previous = use_storage(wiped)
    reliability.record("faults")
    try:
        assert await cli("restore", str(dest)) == 0
        out = capsys.readouterr().out
        assert "counts match the backup" in out
        assert await cli("restore", str(dest)) == 2  # the target is no longer empty
        assert "not empty" in capsys.readouterr().err
    finally:
        use_storage(previous)
    found = await table_counts(empty_database)
    expected = manifest.load(dest).tables
    reliability.record("records_lost", lost_rows(expected, found))
    assert found == expected
    assert set(seeded) <= set(stored_keys(wiped))
