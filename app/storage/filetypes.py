"""File types recognised by their content (magic bytes), never by name or declared type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HEAD = 16  # bytes needed to recognise every type below


@dataclass(frozen=True)
class FileType:
    name: str  # shown in messages: "JPEG"
    mime: str  # the Content-Type the server sets
    extensions: tuple[str, ...]  # the first one is appended to a name that lacks them all
    magic: tuple[bytes, ...]  # any of these at offset 0

    def matches(self, head: bytes) -> bool:
        return any(head.startswith(m) for m in self.magic)


JPEG = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg"), (b"\xff\xd8\xff",))
PNG = FileType("PNG", "image/png", (".png",), (b"\x89PNG\r\n\x1a\n",))
PDF = FileType("PDF", "application/pdf", (".pdf",), (b"%PDF-",))

DEFAULT_TYPES: tuple[FileType, ...] = (JPEG, PNG, PDF)


def accept(types: Iterable[FileType] = DEFAULT_TYPES) -> str:
    """The ``accept`` attribute of a file input (a hint to the browser; the server decides)."""
    return ",".join(t.mime for t in types)


def detect(head: bytes, allowed: Iterable[FileType]) -> FileType | None:
    """The first allowed type whose signature starts ``head``."""
    return next((t for t in allowed if t.matches(head)), None)
