"""The ``backup`` and ``restore`` commands: run as the maintenance role, print a summary.

Exit codes: 0 done; 1 failed part-way (printed: what was done, what was not); 2 refused
before writing anything; 3 backup written but some stored files could not be copied.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from app.settings import settings


def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _listed(items: list[str], limit: int = 20) -> list[str]:
    """Indented lines, the first ``limit`` of them and a count of the rest."""
    shown = [f"  {item}" for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"  … and {len(items) - limit} more")
    return shown


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run_backup(dest: Path) -> int:
    from app.backup.snapshot import BackupRefused, backup
    from app.storage.backends import storage

    try:
        result = asyncio.run(backup(dest, settings.maintenance_database_url, storage()))
    except BackupRefused as exc:
        _err(f"Backup refused: {exc}")
        return 2
    except Exception as exc:
        _err(
            f"BACKUP FAILED: {type(exc).__name__}: {exc}",
            f"{dest} has no manifest.json and is incomplete; do not restore from it.",
        )
        return 1
    m = result.manifest
    rows = sum(m.tables.values())
    print(f"Backup written to {dest}")
    print(
        f"  database ({m.engine}): {len(m.tables)} tables, {rows} rows, "
        f"{_size(m.database.size)} in {result.database_seconds:.2f} s"
    )
    print(
        f"  files: {len(m.files)} copied and verified, {_size(result.file_bytes)} "
        f"in {result.files_seconds:.2f} s"
    )
    if m.excluded_schemas:
        print(f"  schemas left out (job queue): {', '.join(m.excluded_schemas)}")
    if not result.complete:
        _err(f"WARNING: {len(m.unavailable)} stored files could not be copied:")
        _err(*_listed([f"{u.key}: {u.reason}" for u in m.unavailable]))
        return 3
    return 0


def run_prune(root: Path, daily: int, weekly: int, monthly: int, dry_run: bool) -> int:
    from app.backup.retention import Policy, prune

    if not root.is_dir():
        _err(f"{root} is not a directory")
        return 2
    decided = prune(root, datetime.now(), Policy(daily, weekly, monthly), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    print(f"Backups in {root}: {len(decided.keep)} kept, {len(decided.remove)} {verb}")
    for name in decided.remove:
        print(f"  {verb} {name}")
    for name in decided.incomplete:
        print(f"  {verb} incomplete {name} (no manifest)")
    for name in decided.in_progress:
        print(f"  kept {name}: no manifest yet (in progress or failed recently)")
    return 0


def run_check(src: Path) -> int:
    """Verify a backup (manifest, database file, every stored file) without restoring it."""
    from app.backup.manifest import BackupInvalid, verify

    try:
        m = verify(src)
    except BackupInvalid as exc:
        _err(f"Backup {src} is NOT usable:", *_listed(exc.problems))
        return 2
    print(f"Backup {src} is intact (taken {m.created_at}, {m.engine})")
    print(f"  database: {len(m.tables)} tables, {sum(m.tables.values())} rows")
    print(f"  files: {len(m.files)} match their SHA-256, {_size(sum(f.size for f in m.files))}")
    if m.unavailable:
        _err(f"NOTE: {len(m.unavailable)} files were already unavailable when backed up")
    return 0


def run_restore(src: Path, resume: bool = False, ignore_id_key: bool = False) -> int:
    from app.backup.restore import RestoreFailed, RestoreRefused, restore
    from app.maintenance import app_role_from_url
    from app.storage.backends import storage

    app_role = app_role_from_url(settings.database_url)
    try:
        result = asyncio.run(
            restore(
                src,
                settings.maintenance_database_url,
                storage(),
                app_role,
                resume=resume,
                ignore_id_key=ignore_id_key,
            )
        )
    except RestoreRefused as exc:
        _err("Restore refused; nothing was written:", *_listed(exc.problems))
        return 2
    except RestoreFailed as exc:
        _err(f"RESTORE FAILED at {exc.stage}; the restore is NOT complete:")
        _err(*_listed(exc.problems))
        _err("Done before the failure:", *_listed(exc.done or ["nothing"]))
        if exc.stage in ("files", "database"):
            _err("Fix the cause, then run restore again with --resume.")
        elif exc.stage == "row counts":
            _err("Do not use this database: drop it, find the cause, restore again.")
        else:
            _err("The data is in place: run `python -m app migrate` as the maintenance role.")
        return 1
    m = result.manifest
    print(f"Restored {src} (taken {m.created_at})")
    print(f"  checked the backup in {result.verify_seconds:.2f} s")
    print(
        f"  files: {result.files_uploaded} put into the store and verified"
        + (f", {result.files_skipped} already there" if result.files_skipped else "")
        + f" in {result.files_seconds:.2f} s"
    )
    print(
        f"  database: {len(result.tables)} tables, {sum(result.tables.values())} rows, "
        f"counts match the backup; migrations and grants applied "
        f"in {result.database_seconds:.2f} s"
    )
    if m.unavailable:
        _err(f"NOTE: {len(m.unavailable)} files were already unavailable when backed up:")
        _err(*_listed([f"{u.key}: {u.reason}" for u in m.unavailable]))
    return 0
