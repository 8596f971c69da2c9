"""Copying stored files out of the store into a backup, and back into a store, verified.

Stored objects are write-once (``tenants/<slug>/<domain>/<uuid>``, the object written before
its row commits, deleted only after its row), so every row of a snapshot names an object
that existed when the snapshot was taken.  One deleted since is reported as unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from app.backup.manifest import FileEntry, Unavailable, file_path, fsync_dir
from app.storage.backends import ObjectMissing, Storage

log = logging.getLogger("bianmin.backup")
CONCURRENCY = 4
T = TypeVar("T")
R = TypeVar("R")


async def _each(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int = CONCURRENCY
) -> list[R]:
    """``work`` over ``items`` with at most ``limit`` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def digest_of(store: Storage, key: str) -> tuple[int, str]:
    """Size and SHA-256 of an object as the store returns it."""
    sha = hashlib.sha256()
    size = 0
    async with contextlib.aclosing(store.open(key)) as chunks:
        async for chunk in chunks:
            size += len(chunk)
            sha.update(chunk)
    return size, sha.hexdigest()


@dataclass
class CopyResult:
    copied: list[FileEntry] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    bytes: int = 0


async def copy_out(store: Storage, files: list[FileEntry], root: Path) -> CopyResult:
    """Copy every file into ``root/files/<key>``, checking size and SHA-256 on the way.

    A missing or corrupt object is reported, not copied; an error writing the backup raises.
    """
    result = CopyResult()
    dirs: set[Path] = set()
    top = await asyncio.to_thread(root.resolve)

    async def one(entry: FileEntry) -> Unavailable | None:
        target = file_path(root, entry.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        parent = target.parent
        while parent not in dirs and top in parent.parents:  # new directories, up to root
            dirs.add(parent)
            parent = parent.parent
        part = target.with_name(target.name + ".part")
        sha = hashlib.sha256()
        size = 0
        try:
            with part.open("wb") as out:
                async with contextlib.aclosing(store.open(entry.key)) as chunks:
                    async for chunk in chunks:
                        size += len(chunk)
                        sha.update(chunk)
                        await asyncio.to_thread(out.write, chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
        except ObjectMissing:
            part.unlink(missing_ok=True)
            return Unavailable(entry.key, entry.size, entry.sha256, "missing from the store")
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        reason = ""
        if size != entry.size:
            reason = f"{size} bytes in the store, {entry.size} recorded"
        elif sha.hexdigest() != entry.sha256:
            reason = "SHA-256 in the store does not match the recorded one"
        if reason:
            part.unlink(missing_ok=True)
            return Unavailable(entry.key, entry.size, entry.sha256, reason)
        os.replace(part, target)
        return None

    for entry, problem in zip(files, await _each(files, one), strict=True):
        if problem is None:
            result.copied.append(entry)
            result.bytes += entry.size
        else:
            log.warning("backup: stored file %s not copied: %s", entry.key, problem.reason)
            result.unavailable.append(problem)
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        fsync_dir(d)
    return result


async def conflicts(store: Storage, files: list[FileEntry], resume: bool) -> list[str]:
    """Keys already in the target store (with ``resume``, only those whose bytes differ)."""

    async def one(entry: FileEntry) -> str | None:
        if not await store.exists(entry.key):
            return None
        if resume and await digest_of(store, entry.key) == (entry.size, entry.sha256):
            return None
        return f"{entry.key}: already in the store" + (" with other content" if resume else "")

    return [p for p in await _each(files, one) if p]


@dataclass
class UploadResult:
    uploaded: int = 0
    skipped: int = 0  # already present with the same bytes (``--resume``)
    failed: list[str] = field(default_factory=list)


async def upload(store: Storage, files: list[FileEntry], root: Path) -> UploadResult:
    """Put every file from the backup into ``store`` and read it back to verify it."""
    result = UploadResult()

    async def one(entry: FileEntry) -> str:
        if await store.exists(entry.key):
            if await digest_of(store, entry.key) == (entry.size, entry.sha256):
                return "skipped"
            return f"{entry.key}: already in the store with other content"
        try:
            with file_path(root, entry.key).open("rb") as fh:
                await store.put(entry.key, fh, entry.content_type)
            found = await digest_of(store, entry.key)
        except Exception as exc:  # reported with the others; nothing pretends to be done
            return f"{entry.key}: {type(exc).__name__}: {exc}"
        if found != (entry.size, entry.sha256):
            return f"{entry.key}: read back {found[0]} bytes with another SHA-256"
        return "uploaded"

    for outcome in await _each(files, one):
        if outcome == "uploaded":
            result.uploaded += 1
        elif outcome == "skipped":
            result.skipped += 1
        else:
            result.failed.append(outcome)
    return result
