"""Database engines, scoped transactions and the row-level-security settings.

Every query function takes a scope and runs inside ``read(scope)`` or ``write(scope)``.
On PostgreSQL these open a transaction and set ``app.read_ids`` … with ``set_config(…, true)``
so the row-level-security policies see them (never a session-level ``SET``: connections
are pooled).  On SQLite a write is an ``IMMEDIATE`` transaction (deferred ones fail under
concurrency) and a read needs no transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
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


log = logging.getLogger("bianmin.db")


class LoopLocalPostgresEngine(PostgresEngine):
    """A connection pool per event loop.

    The web process's pool belongs to its event loop; a worker's actors run on another loop
    (dramatiq's AsyncIO thread) and must never borrow it.  Here each loop sees only the pool
    it opened; a loop without one gets a connection per query.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, Any] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def pool(self) -> Any:
        try:
            return self._pools.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    @pool.setter
    def pool(self, value: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if value is None:
                return
            raise
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value


def engine_from_url(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=30)
    if url.startswith(("postgres://", "postgresql://")):
        # plan_cache_mode is set per transaction in set_scope (not as a startup parameter,
        # which PgBouncer refuses).
        return LoopLocalPostgresEngine(config={"dsn": url})
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


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release: nothing to undo.  asyncpg's default sends
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` every time a connection goes
    back — one more round trip per transaction (tests/bench/load) — but pooled connections
    never carry session state here: the RLS settings are per transaction
    (``set_config(…, true)``), nothing LISTENs or takes a session advisory lock on them, no
    cursor outlives its transaction.  asyncpg still rolls back a transaction left open."""


async def open_pool(min_size: int, max_size: int) -> None:
    """One pool per process (``max_size=0`` disables it: a connection per query)."""
    eng = engine()
    if isinstance(eng, PostgresEngine) and max_size > 0:
        await eng.start_connection_pool(min_size=min_size, max_size=max_size, reset=_keep_session)


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
            " set_config('app.user_id', {}, true), set_config('app.system', {}, true),"
            # Custom plans: a generic plan of a prepared statement (asyncpg prepares all)
            # re-checks the row-level-security arrays on every row; tests/bench/rollup
            # measured totals going from ~60 ms to ~1.5 s once a connection switched.
            " set_config('plan_cache_mode', 'force_custom_plan', true)",
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


# Callbacks to run once the outermost transaction has committed (e.g. enqueue a job).
_after_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "after_commit", default=None
)


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current transaction commits (now, outside one).

    A rolled-back transaction drops its callbacks: a job is never sent for a change that
    did not happen.
    """
    pending = _after_commit.get()
    if pending is None or not in_transaction():
        callback()
    else:
        pending.append(callback)


def on_commit_once(key: str, callback: Callable[[], None]) -> None:
    """``on_commit``, registered at most once per transaction under ``key``."""
    pending = _after_commit.get()
    if pending is None or not in_transaction():
        callback()
        return
    if any(getattr(c, "_once_key", None) == key for c in pending):
        return

    def once() -> None:
        callback()

    once._once_key = key  # type: ignore[attr-defined]
    pending.append(once)


@contextlib.asynccontextmanager
async def _outermost() -> AsyncIterator[bool]:
    if _after_commit.get() is not None:
        yield False
        return
    token = _after_commit.set([])
    try:
        yield True
        callbacks = _after_commit.get() or []
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failed enqueue must not undo a committed change
            log.exception("after-commit callback failed")


@contextlib.asynccontextmanager
async def read(scope: Scope) -> AsyncIterator[None]:
    """Run reads of tenant-owned rows under ``scope``."""
    eng = engine()
    if isinstance(eng, PostgresEngine):
        async with _outermost(), eng.transaction():
            await set_scope(scope)
            yield
    else:
        yield


@contextlib.asynccontextmanager
async def write(scope: Scope) -> AsyncIterator[None]:
    """One atomic write under ``scope`` (IMMEDIATE on SQLite)."""
    eng = engine()
    if isinstance(eng, PostgresEngine):
        async with _outermost(), eng.transaction():
            await set_scope(scope)
            yield
    elif isinstance(eng, SQLiteEngine):
        async with (
            _outermost(),
            eng.transaction(transaction_type=TransactionType.immediate),
        ):
            yield
    else:  # pragma: no cover - only two engines are supported
        raise RuntimeError("unsupported engine")
