"""The backup manifest: what a backup holds and the digests it must still match.

``manifest.json`` is written last (temporary file, fsync, rename, fsync of the directory);
its presence marks a complete backup.  :func:`verify` re-reads every byte of a backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.storage.backends import InvalidKey, check_key

FORMAT = "bianmin-backup"
VERSION = 1
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
CHUNK = 1024 * 1024
OCTETS = "application/octet-stream"


class BackupInvalid(Exception):
    """A backup that is incomplete, unreadable or no longer matches its manifest."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FileEntry:
    key: str
    size: int
    sha256: str
    content_type: str = OCTETS


@dataclass(frozen=True)
class Unavailable:
    """A file the snapshot names that could not be copied (missing or corrupt in the store)."""

    key: str
    size: int
    sha256: str
    reason: str


@dataclass
class Manifest:
    created_at: str
    engine: str  # "sqlite" | "postgresql"
    database: FileEntry  # the dump/copy; key is its file name in the backup directory
    tables: dict[str, int]
    migrations: dict[str, str]  # app name → newest migration applied
    files: list[FileEntry]
    unavailable: list[Unavailable] = field(default_factory=list)
    excluded_schemas: list[str] = field(default_factory=list)
    id_key_fingerprint: str | None = None  # see app.backup.keys
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupInvalid(["manifest.json is not a Bianmin backup manifest"])
        if data.get("version") != VERSION:
            raise BackupInvalid([f"manifest version {data.get('version')!r} is not {VERSION}"])
        try:
            return cls(
                created_at=str(data["created_at"]),
                engine=str(data["engine"]),
                database=FileEntry(**data["database"]),
                tables={str(k): int(v) for k, v in data["tables"].items()},
                migrations={str(k): str(v) for k, v in data["migrations"].items()},
                files=[FileEntry(**f) for f in data["files"]],
                unavailable=[Unavailable(**u) for u in data.get("unavailable", [])],
                excluded_schemas=[str(s) for s in data.get("excluded_schemas", [])],
                id_key_fingerprint=data.get("id_key_fingerprint"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BackupInvalid([f"manifest.json is malformed: {exc!r}"]) from None


@dataclass
class Snapshot:
    """What a database snapshot holds, read from the snapshot itself."""

    tables: dict[str, int]
    migrations: dict[str, str]
    files: list[FileEntry]
    excluded_schemas: list[str] = field(default_factory=list)


def entries(rows: list[tuple[Any, Any, Any, Any]]) -> list[FileEntry]:
    """File entries from ``(storage_key, size, sha256, content_type)`` rows, one per key."""
    seen: dict[str, FileEntry] = {}
    for key, size, digest, content_type in rows:
        entry = FileEntry(str(key), int(size), str(digest), str(content_type or OCTETS))
        seen.setdefault(entry.key, entry)
    return list(seen.values())


def sha256_of(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks."""
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            sha.update(chunk)
    return size, sha.hexdigest()


def file_path(root: Path, key: str) -> Path:
    """Where a stored file's copy lives in a backup (never outside ``root/files``)."""
    check_key(key)
    base = (root / FILES).resolve()
    target = (base / key).resolve()
    if not target.is_relative_to(base) or target == base:
        raise InvalidKey(key)
    return target


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(root: Path, manifest: Manifest) -> Path:
    """Write ``root/manifest.json`` durably; the backup is complete once this returns."""
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".manifest-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        target = root / MANIFEST
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(root)
    return target


def load(root: Path) -> Manifest:
    path = root / MANIFEST
    if not root.is_dir():
        raise BackupInvalid([f"{root} is not a directory"])
    if not path.is_file():
        raise BackupInvalid([f"{root} has no {MANIFEST}: the backup is incomplete"])
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupInvalid([f"{MANIFEST} cannot be read: {exc}"]) from None


def verify(root: Path) -> Manifest:
    """Load the manifest and check the database file and every stored file against it.

    Raises ``BackupInvalid`` listing every problem found; reads every byte once.
    """
    manifest = load(root)
    problems: list[str] = []
    expected_db = DATABASE_FILES.get(manifest.engine)
    if expected_db is None or manifest.database.key != expected_db:
        problems.append(f"unknown engine/database file {manifest.engine}/{manifest.database.key}")
    else:
        problems += _check(root / expected_db, manifest.database, expected_db)
    seen: set[str] = set()
    for entry in manifest.files:
        if entry.key in seen:
            problems.append(f"{entry.key}: listed twice")
            continue
        seen.add(entry.key)
        try:
            path = file_path(root, entry.key)
        except InvalidKey:
            problems.append(f"{entry.key!r}: not a valid storage key")
            continue
        problems += _check(path, entry, entry.key)
    if problems:
        raise BackupInvalid(problems)
    return manifest


def _check(path: Path, entry: FileEntry, label: str) -> list[str]:
    try:
        size, digest = sha256_of(path)
    except FileNotFoundError:
        return [f"{label}: missing from the backup"]
    except OSError as exc:
        return [f"{label}: cannot be read ({exc.strerror})"]
    if size != entry.size:
        return [f"{label}: {size} bytes, the manifest says {entry.size}"]
    if digest != entry.sha256:
        return [f"{label}: SHA-256 does not match the manifest"]
    return []
