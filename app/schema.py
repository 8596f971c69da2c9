"""What the ORM cannot declare: tenant classes for row-level security, composite unique keys.

Every tenant-owned table registers here with its class (DESIGN.md, "Scope, writes and
row-level security").  ``python -m app migrate`` turns the registry into unique indexes on
every engine and, on PostgreSQL, into forced row-level-security policies and grants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

TableClass = Literal[
    "operational", "casework", "shared", "supervisory", "membership", "audit", "personal"
]


@dataclass(frozen=True)
class TenantTable:
    name: str
    kind: TableClass
    unique: tuple[tuple[str, ...], ...]


TENANT_TABLES: dict[str, TenantTable] = {}
UNIQUE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {}
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {}
# Indexes on expressions or over part of a table: (name, columns and expressions, WHERE or "").
EXPRESSION_INDEXES: dict[str, tuple[tuple[str, str, str], ...]] = {}

T = TypeVar("T")


def tenant_owned(kind: TableClass, unique: Sequence[Sequence[str]] = ()) -> Callable[[T], T]:
    """Register a table that carries ``tenant_id``; every unique key starts with it."""
    keys = tuple(tuple(k) for k in unique)
    for key in keys:
        if key[0] != "tenant_id":
            raise ValueError(f"unique key {key} must start with tenant_id")

    def register(cls: T) -> T:
        name = cls._meta.tablename  # type: ignore[attr-defined]
        TENANT_TABLES[name] = TenantTable(name, kind, keys)
        UNIQUE_KEYS[name] = keys
        return cls

    return register


def unique_together(*keys: Sequence[str]) -> Callable[[T], T]:
    """Composite unique keys on a table that is not tenant-owned."""

    def register(cls: T) -> T:
        UNIQUE_KEYS[cls._meta.tablename] = tuple(tuple(k) for k in keys)  # type: ignore[attr-defined]
        return cls

    return register


def indexed(*keys: Sequence[str]) -> Callable[[T], T]:
    """Composite (non-unique) indexes, e.g. ``("tenant_id", "registered_at")``."""

    def register(cls: T) -> T:
        INDEXES[cls._meta.tablename] = tuple(tuple(k) for k in keys)  # type: ignore[attr-defined]
        return cls

    return register


def expression_indexed(*indexes: tuple[str, str, str]) -> Callable[[T], T]:
    """Indexes the column registry cannot spell: ``(name, "tenant_id, (CASE … END)", where)``."""

    def register(cls: T) -> T:
        EXPRESSION_INDEXES[cls._meta.tablename] = tuple(indexes)  # type: ignore[attr-defined]
        return cls

    return register
