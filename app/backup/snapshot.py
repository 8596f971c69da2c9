"""``backup DEST``: the database snapshot first, then the files it names, the manifest last."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app import db
from app.backup import files, keys, manifest, postgres_db, sqlite_db
from app.backup.manifest import DATABASE_FILES, FileEntry, Manifest, sha256_of
from app.storage.backends import Storage

log = logging.getLogger("bianmin.backup")


class BackupRefused(Exception):
    """The destination or the source cannot be used; nothing was written."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    database_seconds: float
    files_seconds: float
    file_bytes: int

    @property
    def complete(self) -> bool:
        """Every file the snapshot names was copied and verified."""
        return not self.manifest.unavailable


def engine_of(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql"
    raise BackupRefused(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


def prepare(dest: Path) -> None:
    """Create ``dest``; refuse one that exists and is not an empty directory."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"{dest} exists and is not empty: choose a new directory")
    dest.mkdir(parents=True, exist_ok=True)


async def backup(dest: Path, database_url: str, store: Storage) -> BackupResult:
    """Write a complete backup of ``database_url`` (the maintenance role's) and ``store``.

    Raises ``BackupRefused`` before writing anything for a bad destination.  Files that are
    missing or corrupt in the store are listed in the manifest (``unavailable``) and the
    result is not ``complete``; any other failure raises and leaves no manifest.
    """
    engine = engine_of(database_url)
    prepare(dest)
    database_file = dest / DATABASE_FILES[engine]
    started = time.perf_counter()
    if engine == "sqlite":
        snap = sqlite_db.snapshot(db.sqlite_path(database_url), database_file)
    else:
        snap = await postgres_db.snapshot(database_url, database_file)
    size, digest = sha256_of(database_file)
    database_seconds = time.perf_counter() - started
    log.info("backup: database snapshot written (%d tables, %d bytes)", len(snap.tables), size)

    started = time.perf_counter()
    copied = await files.copy_out(store, snap.files, dest)
    files_seconds = time.perf_counter() - started
    log.info(
        "backup: %d files copied (%d bytes), %d unavailable",
        len(copied.copied),
        copied.bytes,
        len(copied.unavailable),
    )
    result = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        engine=engine,
        database=FileEntry(database_file.name, size, digest),
        tables=snap.tables,
        migrations=snap.migrations,
        files=copied.copied,
        unavailable=copied.unavailable,
        excluded_schemas=snap.excluded_schemas,
        id_key_fingerprint=keys.fingerprint(keys.id_key()),
    )
    manifest.write(dest, result)
    return BackupResult(dest, result, database_seconds, files_seconds, copied.bytes)
