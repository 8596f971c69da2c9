"""The storage interface and the backend chosen by ``STORAGE_URL``.

Unset → a local folder ``$VAR_DIR/files``; ``file:///path`` → that folder;
``s3://bucket?endpoint_url=…&region=…`` → an S3-compatible store through boto3 (path-style,
credentials from the usual ``AWS_*`` variables).  Every backend keeps blocking work off the
event loop and reads in chunks.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from app.settings import settings

CHUNK = 256 * 1024
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
MAX_KEY = 512


class StorageError(Exception):
    """A storage operation failed."""


class InvalidKey(StorageError, ValueError):
    """A key that is malformed or would leave the storage root."""


class ObjectMissing(StorageError):
    """No object under this key."""


def check_key(key: str) -> str:
    """Keys are relative, ``/``-separated, and no segment starts with a dot (no ``..``)."""
    if len(key) > MAX_KEY or not KEY.match(key):
        raise InvalidKey(key)
    return key


class Storage(Protocol):
    """put, open for reading (an async iterator of chunks), delete, exists."""

    async def put(
        self, key: str, data: bytes | IO[bytes], content_type: str = "application/octet-stream"
    ) -> None:
        """Store ``data`` (bytes, or a binary file read from its current position) at ``key``."""
        ...

    def open(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        """The object's bytes in chunks; raises ``ObjectMissing`` on first iteration."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object (no error if it is already gone)."""
        ...

    async def exists(self, key: str) -> bool: ...


def from_url(url: str, var_dir: Path) -> Storage:
    """The backend a ``STORAGE_URL`` names (raises ``ValueError`` on anything unknown)."""
    from app.storage.local import LocalStorage

    if not url:
        return LocalStorage(var_dir / "files")
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError("STORAGE_URL file:// needs an absolute path (file:///srv/files)")
        return LocalStorage(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        from app.storage.s3 import S3Storage

        if not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("STORAGE_URL must be s3://bucket?endpoint_url=…&region=…")
        query = parse_qs(parts.query)
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ValueError(f"unknown STORAGE_URL parameters: {', '.join(sorted(unknown))}")
        return S3Storage(
            parts.netloc,
            endpoint_url=query.get("endpoint_url", [None])[0],
            region=query.get("region", [None])[0],
        )
    raise ValueError(f"unsupported STORAGE_URL scheme: {parts.scheme or url!r}")


_current: Storage | None = None


def storage() -> Storage:
    """The process's backend (built from the settings on first use)."""
    global _current
    if _current is None:
        _current = from_url(settings.storage_url, settings.var_dir)
    return _current


def use_storage(backend: Storage | None) -> Storage | None:
    """Swap the process's backend (tests; ``None`` rebuilds from the settings); returns the old."""
    global _current
    previous, _current = _current, backend
    return previous
