"""Database engines, scoped transactions and the row-level-security settings.

Every query function takes a scope and runs inside ``read(scope)`` or ``write(scope)``.
On PostgreSQL these open a transaction and set ``app.read_ids`` … with ``set_config(…, true)``
so the row-level-security policies see them (never a session-level ``SET``: connections
are pooled).  On SQLite a write is an ``IMMEDIATE`` transaction (deferred ones fail under
concurrency) and a read needs no transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

if TYPE_CHECKING:
    from app.tenancy.scope import TenantScope as Scope


def sqlite_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(unquote(parsed.path if parsed.netloc == "" else parsed.netloc + parsed.path))


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=30)
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")


def engine() -> Engine:
    import piccolo_conf

    return piccolo_conf.DB


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def all_tables() -> list[Any]:
    from piccolo.apps.migrations.tables import Migration
    from piccolo.conf.apps import Finder

    return [*Finder().get_table_classes(), Migration]


def use_engine(new: Engine) -> None:
    """Bind every table (and Piccolo's migration runner) to ``new``."""
    import piccolo_conf

    piccolo_conf.DB = new
    for table in all_tables():
        table._meta.db = new


def use_url(url: str) -> Engine:
    new = engine_from_url(url)
    use_engine(new)
    return new


def enable_wal() -> None:
    eng = engine()
    if isinstance(eng, SQLiteEngine):
        con = sqlite3.connect(eng.path)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()


async def open_pool(min_size: int, max_size: int) -> None:
    """One pool per process (``max_size=0`` disables it: a connection per query)."""
    eng = engine()
    if isinstance(eng, PostgresEngine) and max_size > 0:
        await eng.start_connection_pool(min_size=min_size, max_size=max_size)


async def close_pool() -> None:
    eng = engine()
    if isinstance(eng, PostgresEngine) and eng.pool:
        await eng.close_connection_pool()


async def ping() -> None:
    """Raise if the database cannot answer a trivial query."""
    from piccolo.querystring import QueryString

    await engine().run_querystring(QueryString("SELECT 1"))


def _ids(values: Iterable[int]) -> str:
    return ",".join(str(int(v)) for v in sorted(values))


async def set_scope(scope: Scope) -> None:
    """(Re)apply the scope to the current PostgreSQL transaction."""
    if not isinstance(engine(), PostgresEngine):
        return
    from piccolo.querystring import QueryString

    await engine().run_querystring(
        QueryString(
            "SELECT set_config('app.read_ids', {}, true), set_config('app.write_ids', {}, true),"
            " set_config('app.shared_ids', {}, true), set_config('app.supervise_ids', {}, true),"
            " set_config('app.user_id', {}, true), set_config('app.system', {}, true)",
            _ids(scope.read_ids),
            _ids(scope.write_ids),
            _ids(scope.shared_ids),
            _ids(scope.supervise_ids),
            str(scope.user_id or ""),
            "on" if scope.system else "",
        )
    )


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


@contextlib.asynccontextmanager
async def read(scope: Scope) -> AsyncIterator[None]:
    """Run reads of tenant-owned rows under ``scope``."""
    eng = engine()
    if isinstance(eng, PostgresEngine):
        async with eng.transaction():
            await set_scope(scope)
            yield
    else:
        yield


@contextlib.asynccontextmanager
async def write(scope: Scope) -> AsyncIterator[None]:
    """One atomic write under ``scope`` (IMMEDIATE on SQLite)."""
    eng = engine()
    if isinstance(eng, PostgresEngine):
        async with eng.transaction():
            await set_scope(scope)
            yield
    elif isinstance(eng, SQLiteEngine):
        async with eng.transaction(transaction_type=TransactionType.immediate):
            yield
    else:  # pragma: no cover - only two engines are supported
        raise RuntimeError("unsupported engine")
