"""``restore SRC``: verify everything, then fill an empty store and an empty database.

Order, so that nothing half-restored looks restored:

1. the manifest and every byte of the backup are checked, and this installation's ID hash
   key against the backup's fingerprint (refused before touching anything);
2. the target database must be empty and the store must hold none of the keys (refused);
3. the files go into the store and are read back (an orphan object is harmless: nothing
   refers to it until the database exists — re-run with ``resume`` after fixing the cause);
4. the database is restored in one step (SQLite: a rename; PostgreSQL: one transaction);
5. the row counts are compared with the manifest, then migrations and grants are applied
   for this installation's app role (row-level security as ``migrate`` sets it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app import db
from app.backup import files, keys, manifest, postgres_db, sqlite_db
from app.backup.manifest import Manifest
from app.backup.snapshot import engine_of
from app.storage.backends import Storage

log = logging.getLogger("bianmin.backup")


class RestoreRefused(Exception):
    """The backup or the target is not fit; nothing was written anywhere."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class RestoreFailed(Exception):
    """Something was written but the restore is not complete; ``done`` says how far it got."""

    def __init__(self, stage: str, problems: list[str], done: list[str]) -> None:
        super().__init__(f"{stage}: " + "; ".join(problems))
        self.stage = stage
        self.problems = problems
        self.done = done


@dataclass
class RestoreResult:
    manifest: Manifest
    files_uploaded: int = 0
    files_skipped: int = 0
    verify_seconds: float = 0.0
    files_seconds: float = 0.0
    database_seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def _bound_to(url: str) -> Iterator[None]:
    """Point Piccolo at ``url`` for the migrate step, then back at what it used before."""
    previous = db.engine()
    db.use_url(url)
    try:
        yield
    finally:
        db.use_engine(previous)


async def _target_problems(engine: str, url: str) -> list[str]:
    if engine == "sqlite":
        found = sqlite_db.existing_tables(db.sqlite_path(url))
        n = len(found)
    else:
        n = await postgres_db.existing_relations(url)
    if n:
        return [f"the target database is not empty ({n} tables): restore needs an empty one"]
    return []


async def _counts(engine: str, url: str) -> dict[str, int]:
    if engine == "sqlite":
        return sqlite_db.counts(db.sqlite_path(url))
    return await postgres_db.counts(url)


def count_mismatches(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want != got:
            problems.append(f"table {table}: {got} rows restored, {want} in the backup")
    return problems


async def restore(
    src: Path,
    database_url: str,
    store: Storage,
    app_role: str | None,
    *,
    resume: bool = False,
    ignore_id_key: bool = False,
) -> RestoreResult:
    """Restore the backup in ``src`` into the empty database ``database_url`` (as the
    maintenance role) and the store; raises ``RestoreRefused`` or ``RestoreFailed``.

    ``resume`` accepts objects already in the store with the right bytes (a restore that
    failed after the files); ``ignore_id_key`` restores under another ID-number hash key.
    """
    started = time.perf_counter()
    try:
        found = manifest.verify(src)
    except manifest.BackupInvalid as exc:
        raise RestoreRefused(exc.problems) from None
    engine = engine_of(database_url)
    if found.engine != engine:
        raise RestoreRefused([f"a {found.engine} backup cannot be restored into {engine}"])
    problems = [] if ignore_id_key else keys.problems(found.id_key_fingerprint)
    problems += await _target_problems(engine, database_url)
    problems += await files.conflicts(store, found.files, resume)
    if problems:
        raise RestoreRefused(problems)
    result = RestoreResult(found, verify_seconds=time.perf_counter() - started)
    done: list[str] = []

    started = time.perf_counter()
    uploaded = await files.upload(store, found.files, src)
    result.files_uploaded, result.files_skipped = uploaded.uploaded, uploaded.skipped
    result.files_seconds = time.perf_counter() - started
    if uploaded.uploaded:
        done.append(f"{uploaded.uploaded} files put into the store")
    if uploaded.failed:
        raise RestoreFailed("files", uploaded.failed, [*done, "database not touched"])
    log.info("restore: %d files in the store", len(found.files))

    started = time.perf_counter()
    dump = src / found.database.key
    try:
        if engine == "sqlite":
            sqlite_db.restore(dump, db.sqlite_path(database_url), found.database.sha256)
        else:
            await postgres_db.restore(dump, database_url)
    except Exception as exc:
        raise RestoreFailed(
            "database", [f"{type(exc).__name__}: {exc}"], [*done, "database not restored"]
        ) from exc
    done.append("database restored")
    result.tables = await _counts(engine, database_url)
    mismatches = count_mismatches(found.tables, result.tables)
    if mismatches:
        raise RestoreFailed("row counts", mismatches, done)
    try:
        with _bound_to(database_url):
            from app import maintenance

            await maintenance.migrate(app_role=app_role)
    except Exception as exc:
        raise RestoreFailed("migrate and grants", [f"{type(exc).__name__}: {exc}"], done) from exc
    result.database_seconds = time.perf_counter() - started
    log.info("restore: database restored (%d tables)", len(result.tables))
    return result
