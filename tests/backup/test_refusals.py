"""Faults around a backup: corrupt or incomplete backups, occupied targets, failing stores.

A restore refuses before writing anything when the backup or the target is not fit, and a
restore that fails part-way says so and can be resumed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

from app.backup import manifest
from app.backup.restore import RestoreFailed, RestoreRefused, restore
from app.backup.snapshot import BackupRefused, BackupResult, backup
from app.cases import identity
from app.storage.backends import Storage
from app.storage.local import LocalStorage
from app.storage.services import StoredFileInfo
from tests import reliability
from tests.backup.conftest import APP_ROLE, LIVE_URL, relations, table_counts
from tests.storage.conftest import stored_keys, tamper

Seeded = dict[str, tuple[StoredFileInfo, bytes]]


@pytest.fixture
async def taken(tmp_path: Path, live_store: Storage, seeded: Seeded) -> BackupResult:
    return await backup(tmp_path / "backup", LIVE_URL, live_store)


def flip_byte(path: Path, at: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


async def assert_refused(src: Path, target: str, store: Storage, text: str) -> None:
    """Restore refuses with ``text`` among its problems and writes nothing anywhere."""
    before = stored_keys(store)
    with pytest.raises(RestoreRefused) as caught:
        await restore(src, target, store, APP_ROLE)
    assert any(text in p for p in caught.value.problems), caught.value.problems
    assert stored_keys(store) == before
    if target != LIVE_URL:
        assert await relations(target) == 0


@pytest.mark.parametrize("what", ["stored file", "database"])
async def test_a_flipped_byte_is_refused(
    taken: BackupResult,
    seeded: Seeded,
    new_store: Callable[[str], Storage],
    empty_database: str,
    what: str,
) -> None:
    if what == "database":
        victim = taken.path / taken.manifest.database.key
        label = taken.manifest.database.key
    else:
        label = sorted(seeded)[0]
        victim = manifest.file_path(taken.path, label)
    flip_byte(victim, at=len(victim.read_bytes()) // 2)
    reliability.record("faults")
    await assert_refused(taken.path, empty_database, new_store("local"), f"{label}: SHA-256")


async def test_missing_and_truncated_parts_are_refused(
    taken: BackupResult, seeded: Seeded, new_store: Callable[[str], Storage], empty_database: str
) -> None:
    first, second = sorted(seeded)[:2]
    manifest.file_path(taken.path, first).unlink()
    path = manifest.file_path(taken.path, second)
    path.write_bytes(path.read_bytes()[:-1])
    reliability.record("faults", 2)
    store = new_store("local")
    with pytest.raises(RestoreRefused) as caught:
        await restore(taken.path, empty_database, store, APP_ROLE)
    assert f"{first}: missing from the backup" in caught.value.problems
    assert any(p.startswith(f"{second}: ") and "bytes" in p for p in caught.value.problems)
    assert stored_keys(store) == [] and await relations(empty_database) == 0


async def test_a_backup_without_manifest_is_incomplete(
    taken: BackupResult, new_store: Callable[[str], Storage], empty_database: str
) -> None:
    (taken.path / manifest.MANIFEST).unlink()
    reliability.record("faults")
    await assert_refused(taken.path, empty_database, new_store("local"), "incomplete")


async def test_a_non_empty_database_is_refused(
    taken: BackupResult, new_store: Callable[[str], Storage]
) -> None:
    store = new_store("local")
    await assert_refused(taken.path, LIVE_URL, store, "not empty")
    assert stored_keys(store) == []


async def test_a_store_holding_a_key_is_refused_unless_resuming(
    taken: BackupResult,
    seeded: Seeded,
    new_store: Callable[[str], Storage],
    empty_database: str,
) -> None:
    key = sorted(seeded)[0]
    store = new_store("local")
    await store.put(key, b"someone else's bytes")
    await assert_refused(taken.path, empty_database, store, f"{key}: already in the store")
    with pytest.raises(RestoreRefused):  # resuming accepts only identical objects
        await restore(taken.path, empty_database, store, APP_ROLE, resume=True)
    assert await relations(empty_database) == 0

    await store.put(key, seeded[key][1])
    done = await restore(taken.path, empty_database, store, APP_ROLE, resume=True)
    assert (done.files_skipped, done.files_uploaded) == (1, len(taken.manifest.files) - 1)
    assert await table_counts(empty_database) == taken.manifest.tables


class FailingStore(LocalStorage):
    """A local store whose puts fail after ``allowed`` of them (a store going away)."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    async def put(
        self, key: str, data: bytes | IO[bytes], content_type: str = "application/octet-stream"
    ) -> None:
        if self.allowed <= 0:
            raise OSError("the store went away")
        self.allowed -= 1
        await super().put(key, data, content_type)


async def test_a_failing_store_stops_before_the_database_and_resumes(
    tmp_path: Path, taken: BackupResult, empty_database: str
) -> None:
    store = FailingStore(tmp_path / "flaky", allowed=1)
    reliability.record("faults")
    with pytest.raises(RestoreFailed) as caught:
        await restore(taken.path, empty_database, store, APP_ROLE)
    assert caught.value.stage == "files"
    assert "database not touched" in caught.value.done
    assert await relations(empty_database) == 0

    store.allowed = 10**6
    done = await restore(taken.path, empty_database, store, APP_ROLE, resume=True)
    assert done.files_skipped == 1
    found = await table_counts(empty_database)
    lost = sum(abs(found.get(t, 0) - n) for t, n in taken.manifest.tables.items())
    keys = set(stored_keys(store))
    lost += sum(1 for f in taken.manifest.files if f.key not in keys)
    reliability.record("records_lost", lost)
    assert lost == 0


async def test_backup_reports_a_corrupt_object_and_copies_the_rest(
    tmp_path: Path, live_store: Storage, seeded: Seeded
) -> None:
    key = sorted(seeded)[0]
    tamper(live_store, key, b"rotten")
    reliability.record("faults")
    result = await backup(tmp_path / "backup", LIVE_URL, live_store)
    bad = {u.key: u.reason for u in result.manifest.unavailable}
    assert "does not match" in bad[key] or "bytes in the store" in bad[key]
    assert not result.complete
    copied = {f.key for f in result.manifest.files}
    assert set(seeded) - {key} <= copied and key not in copied
    assert not manifest.file_path(result.path, key).exists()
    assert manifest.verify(result.path).files == result.manifest.files


async def test_backup_refuses_a_non_empty_destination(tmp_path: Path, live_store: Storage) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "something").write_text("x")
    with pytest.raises(BackupRefused):
        await backup(dest, LIVE_URL, live_store)
    assert sorted(p.name for p in dest.iterdir()) == ["something"]
    shutil.rmtree(dest)


async def test_the_id_hash_key_must_match(
    tmp_path: Path,
    live_store: Storage,
    seeded: Seeded,
    new_store: Callable[[str], Storage],
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ID_HASH_KEY", "the-old-installation-key")
    taken = await backup(tmp_path / "backup", LIVE_URL, live_store)
    assert taken.manifest.id_key_fingerprint
    assert "the-old-installation-key" not in (taken.path / manifest.MANIFEST).read_text()

    monkeypatch.setenv("ID_HASH_KEY", "a-new-key")
    reliability.record("faults")
    store = new_store("local")
    await assert_refused(taken.path, empty_database, store, "ID hash key here differs")
    monkeypatch.delenv("ID_HASH_KEY")
    monkeypatch.setattr(
        identity, "settings", replace(identity.settings, var_dir=tmp_path / "new-var")
    )
    await assert_refused(taken.path, empty_database, store, "no ID hash key here")

    done = await restore(taken.path, empty_database, store, APP_ROLE, ignore_id_key=True)
    assert await table_counts(empty_database) == done.manifest.tables
