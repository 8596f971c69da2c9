"""SQLite: the online backup API into one self-contained file, and restoring it into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path

from app.backup.manifest import CHUNK, Snapshot, entries, fsync_dir

SIDE_FILES = ("-wal", "-shm", "-journal")


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise FileNotFoundError(f"no SQLite database at {path}")
    return sqlite3.connect(str(path), timeout=30)


def tables(con: sqlite3.Connection) -> list[str]:
    rows = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(con: sqlite3.Connection) -> dict[str, int]:
    return {
        t: int(con.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0])  # noqa: S608
        for t in tables(con)
    }


def read(con: sqlite3.Connection) -> Snapshot:
    names = set(tables(con))
    files: list = []
    if "stored_file" in names:
        files = con.execute(
            "SELECT storage_key, size, sha256, content_type FROM stored_file ORDER BY id"
        ).fetchall()
    migrations: dict[str, str] = {}
    if "migration" in names:
        for app_name, name in con.execute(
            "SELECT app_name, max(name) FROM migration GROUP BY app_name"
        ):
            migrations[str(app_name)] = str(name)
    return Snapshot(tables=_counts(con), migrations=migrations, files=entries(files))


def snapshot(source: Path, target: Path) -> Snapshot:
    """Copy the live database into ``target`` (a consistent snapshot) and read it back.

    The copy leaves WAL mode (one self-contained file), passes ``quick_check`` and is fsynced.
    """
    src = _connect(source)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # one step: the whole database under one read transaction
        finally:
            dst.close()
    finally:
        src.close()
    con = sqlite3.connect(str(target))
    try:
        con.execute("PRAGMA journal_mode=DELETE")
        status = con.execute("PRAGMA quick_check").fetchone()[0]
        if status != "ok":
            raise RuntimeError(f"the snapshot fails quick_check: {status}")
        found = read(con)
    finally:
        con.close()
    with target.open("rb+") as fh:
        os.fsync(fh.fileno())
    return found


def counts(path: Path) -> dict[str, int]:
    con = _connect(path)
    try:
        return _counts(con)
    finally:
        con.close()


def existing_tables(path: Path) -> list[str]:
    """The tables already in the target (none, or no file at all, means empty)."""
    if not path.exists():
        return []
    con = _connect(path)
    try:
        return tables(con)
    finally:
        con.close()


def restore(copy: Path, target: Path, sha256: str) -> None:
    """Put the backed-up file in place atomically (the target must be empty or absent);
    the bytes written must still have the manifest's ``sha256``."""
    if existing_tables(target):
        raise RuntimeError(f"{target} is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, copy.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise RuntimeError(f"{copy.name} changed since it was checked")
        # An empty target's journal files must not be replayed onto the restored file.
        for suffix in SIDE_FILES:
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
