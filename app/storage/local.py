"""The local-folder backend: atomic writes (temp file + rename), never outside the root."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import IO

from app.storage.backends import CHUNK, InvalidKey, ObjectMissing, check_key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file behind ``key``; symlinks resolved, and refused if that leaves the root."""
        check_key(key)
        root = self.root.resolve()
        target = (root / key).resolve()
        if target == root or not target.is_relative_to(root):
            raise InvalidKey(key)
        return target

    def _put(self, key: str, data: bytes | IO[bytes]) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(key)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, bytes | bytearray | memoryview):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh, CHUNK)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(target.parent)

    async def put(
        self, key: str, data: bytes | IO[bytes], content_type: str = "application/octet-stream"
    ) -> None:
        await asyncio.to_thread(self._put, key, data)

    def _open(self, key: str) -> IO[bytes]:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(key) from None

    async def open(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        fh = await asyncio.to_thread(self._open, key)
        try:
            while chunk := await asyncio.to_thread(fh.read, chunk_size):
                yield chunk
        finally:
            fh.close()

    def _delete(self, key: str) -> None:
        path = self.path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(lambda: self.path(key).is_file())


def _fsync_dir(path: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
