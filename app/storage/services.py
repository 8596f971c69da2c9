"""Storing and reading files: the upload helper every domain calls, and verified reads.

An upload is read once to check it (size limit, type by magic bytes, not empty, SHA-256),
then stored: the object first, then the row in a ``db.write`` transaction; if the row cannot
be written the object is deleted again, so a refusal or a failure leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
import tempfile
import unicodedata
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from starlette.datastructures import UploadFile

from app import db
from app.settings import settings
from app.storage import queries
from app.storage.backends import CHUNK, ObjectMissing, check_key, storage
from app.storage.filetypes import DEFAULT_TYPES, HEAD, FileType, detect
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import join_list

log = logging.getLogger("bianmin.storage")
SPOOL_IN_MEMORY = 1024 * 1024
DOMAIN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # "cases", "inspections" … (one key segment)


class UploadRefused(Exception):
    """A file that may not be stored; ``message`` is translated, for the form field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FileUnavailable(Exception):
    """The stored bytes are missing or no longer match the recorded size and SHA-256."""

    def __init__(self, file_id: int, key: str, reason: str) -> None:
        super().__init__(f"file {file_id} ({key}): {reason}")
        self.file_id = file_id
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class StoredFileInfo:
    id: int
    tenant_id: int
    domain: str
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_by_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> StoredFileInfo:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            domain=row["domain"],
            key=row["storage_key"],
            filename=row["filename"],
            content_type=row["content_type"],
            size=int(row["size"]),
            sha256=row["sha256"],
            created_by_id=row["created_by_id"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True)
class Checked:
    type: FileType
    size: int
    sha256: str


# --- checking ----------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return settings.upload_max_mb * 1024 * 1024


class _Checker:
    """Fed chunk by chunk; refuses as soon as the size or the type is known to be wrong."""

    def __init__(self, allowed: Iterable[FileType], max_bytes: int) -> None:
        self.allowed = tuple(allowed)
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.type: FileType | None = None
        self.sha = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadRefused(
                _("The file is larger than %(mb)s MB.", mb=_megabytes(self.max_bytes))
            )
        if self.type is None and len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
            if len(self.head) >= HEAD:
                self.type = self._detect()
        self.sha.update(chunk)

    def _detect(self) -> FileType:
        found = detect(self.head, self.allowed)
        if found is None:
            names = join_list([t.name for t in self.allowed])
            raise UploadRefused(
                _("This type of file is not accepted. Allowed: %(types)s.", types=names)
            )
        return found

    def finish(self) -> Checked:
        if self.size == 0:
            raise UploadRefused(_("The file is empty."))
        found = self.type or self._detect()
        return Checked(found, self.size, self.sha.hexdigest())


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.2f}"


def check_bytes(
    data: bytes, allowed: Iterable[FileType] = DEFAULT_TYPES, max_bytes: int | None = None
) -> Checked:
    checker = _Checker(allowed, max_upload_bytes() if max_bytes is None else max_bytes)
    checker.feed(data[:HEAD])
    checker.feed(data[HEAD:])
    return checker.finish()


async def check_upload(
    upload: UploadFile, allowed: Iterable[FileType] = DEFAULT_TYPES, max_bytes: int | None = None
) -> Checked:
    """Read ``upload`` once (stopping past the limit) and leave it rewound."""
    checker = _Checker(allowed, max_upload_bytes() if max_bytes is None else max_bytes)
    await upload.seek(0)
    while chunk := await upload.read(CHUNK):
        checker.feed(chunk)
    checked = checker.finish()
    await upload.seek(0)
    return checked


def display_name(filename: str | None, kind: FileType) -> str:
    """The original name for display: no folders, no control characters, the type's extension."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not name.lower().endswith(kind.extensions):
        name = (name[:200] or "file") + kind.extensions[0]
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 200 - len(ext) - 1] + dot + ext
    return name


# --- storing -----------------------------------------------------------------------------


async def accept_upload(
    scope: TenantScope,
    upload: UploadFile | Any,
    *,
    domain: str,
    allowed: Iterable[FileType] = DEFAULT_TYPES,
    max_bytes: int | None = None,
    tenant_id: int | None = None,
) -> StoredFileInfo:
    """Check and store one uploaded file for ``tenant_id`` (default: the scope's tenant).

    Raises ``UploadRefused`` (message for the form) and stores nothing when refused.  Call it
    outside any transaction, then keep the returned ``id`` on the domain's own row.
    """
    if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
        raise UploadRefused(_("Choose a file to upload."))
    checked = await check_upload(upload, allowed, max_bytes)
    return await _store(scope, tenant_id, domain, upload.file, upload.filename, checked)


async def store_bytes(
    scope: TenantScope,
    data: bytes,
    *,
    domain: str,
    filename: str,
    allowed: Iterable[FileType] = DEFAULT_TYPES,
    max_bytes: int | None = None,
    tenant_id: int | None = None,
    attach: Callable[[int], Awaitable[None]] | None = None,
) -> StoredFileInfo:
    """Check and store bytes the server has (imports, generated files) like an upload.

    ``attach(file_id)`` runs inside the transaction that writes the file's row, so the
    caller's own row can point at the file in the same commit (if it raises, neither is
    kept and the object is deleted again)."""
    checked = check_bytes(data, allowed, max_bytes)
    return await _store(scope, tenant_id, domain, io.BytesIO(data), filename, checked, attach)


async def _store(
    scope: TenantScope,
    tenant_id: int | None,
    domain: str,
    source: IO[bytes],
    filename: str | None,
    checked: Checked,
    attach: Callable[[int], Awaitable[None]] | None = None,
) -> StoredFileInfo:
    if db.in_transaction():
        raise RuntimeError("store files before opening a transaction (the upload may be slow)")
    owner = scope.own() if tenant_id is None else tenant_id
    scope.check_casework(owner)  # stored files are casework (see app.storage.tables)
    tenant = await tenancy.tenant(scope, owner)
    if tenant is None:
        raise NotFound()
    if not DOMAIN.match(domain):
        raise ValueError(f"storage domain must match {DOMAIN.pattern}: {domain!r}")
    key = check_key(f"tenants/{tenant['slug']}/{domain}/{uuid.uuid4()}")
    name = display_name(filename, checked.type)
    backend = storage()
    try:
        source.seek(0)
        await backend.put(key, source, checked.type.mime)
        async with db.write(scope):
            row = await queries.insert_file(
                scope,
                owner,
                domain=domain,
                storage_key=key,
                filename=name,
                content_type=checked.type.mime,
                size=checked.size,
                sha256=checked.sha256,
                created_by=scope.user_id,
            )
            if attach is not None:
                await attach(row["id"])
    except BaseException:
        await _forget(key)
        raise
    return StoredFileInfo(
        row["id"],
        owner,
        domain,
        key,
        name,
        checked.type.mime,
        checked.size,
        checked.sha256,
        scope.user_id,
        row["created_at"],
    )


async def _forget(key: str) -> None:
    """Delete an object whose row was not written (best effort: an orphan is only logged)."""
    try:
        await asyncio.shield(storage().delete(key))
    except BaseException:
        log.warning("could not delete orphaned object %s", key, exc_info=True)


async def delete_file(scope: TenantScope, file_id: int) -> bool:
    """Delete the row, then (after commit) the object; False if not the scope's to delete."""
    async with db.write(scope):
        row = await queries.delete_file_row(scope, file_id)
    if row is None:
        return False
    await _forget(row["storage_key"])
    return True


# --- reading -----------------------------------------------------------------------------


async def file_info(
    scope: TenantScope, file_id: int, *, domain: str | None = None
) -> StoredFileInfo:
    """A file of the scope's own tenant (any readable tenant for a system scope), or 404."""
    row = await queries.file_row(scope, file_id, scope.tenant_id)
    if row is None or (domain is not None and row["domain"] != domain):
        raise NotFound()
    return StoredFileInfo.of(row)


class VerifiedFile:
    """A verified copy of a file's bytes (memory, then disk), to stream or read once."""

    def __init__(self, info: StoredFileInfo, spool: IO[bytes]) -> None:
        self.info = info
        self._spool = spool

    async def chunks(self, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        try:
            await asyncio.to_thread(self._spool.seek, 0)
            while chunk := await asyncio.to_thread(self._spool.read, chunk_size):
                yield chunk
        finally:
            self.close()

    async def read(self) -> bytes:
        return b"".join([c async for c in self.chunks()])

    def close(self) -> None:
        self._spool.close()


async def open_verified(info: StoredFileInfo) -> VerifiedFile:
    """Read the object once, checking size and SHA-256; ``FileUnavailable`` if they differ."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    sha = hashlib.sha256()
    size = 0
    try:
        async with contextlib.aclosing(storage().open(info.key)) as chunks:
            async for chunk in chunks:
                size += len(chunk)
                if size > info.size:
                    break
                sha.update(chunk)
                await asyncio.to_thread(spool.write, chunk)
        if size != info.size:
            raise FileUnavailable(info.id, info.key, f"size {size}, expected {info.size}")
        if sha.hexdigest() != info.sha256:
            raise FileUnavailable(info.id, info.key, "SHA-256 does not match")
    except ObjectMissing:
        spool.close()
        log.warning("stored file %s: object %s is missing", info.id, info.key)
        raise FileUnavailable(info.id, info.key, "object missing") from None
    except FileUnavailable as exc:
        spool.close()
        log.warning("stored file %s: object %s refused on read: %s", info.id, info.key, exc.reason)
        raise
    except BaseException:
        spool.close()
        raise
    return VerifiedFile(info, spool)
