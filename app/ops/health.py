"""``/healthz``: the database, the broker and the storage, each checked on its own, all three
at once, each within :data:`TIMEOUT` seconds.

An answer names only the kind of error (``error: ConnectionError``, ``error: timeout``),
never a message: messages can hold URLs, hosts and credentials.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app import db
from app.settings import settings
from app.storage import backends

TIMEOUT = 2.0
OK = "ok"


async def check_database() -> None:
    await db.ping()


def _ping_broker(url: str) -> None:
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    elif url.startswith(("amqp://", "amqps://")):
        import pika

        parameters = pika.URLParameters(url)
        parameters.socket_timeout = TIMEOUT
        parameters.stack_timeout = TIMEOUT
        parameters.connection_attempts = 1
        pika.BlockingConnection(parameters).close()
    elif url.startswith(("postgres://", "postgresql://")):
        import psycopg

        url = url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, connect_timeout=max(int(TIMEOUT), 1)) as conn:
            conn.execute("SELECT 1")
    else:
        raise ValueError("unsupported broker")


async def check_broker() -> None:
    """In-process (no BROKER_URL): nothing to reach.  Otherwise a fresh connection to it."""
    url = settings.broker_url
    if url:
        await asyncio.to_thread(_ping_broker, url)


def _probe_local(root: Path) -> None:
    """The folder exists (or can be made) and takes a file."""
    root.mkdir(parents=True, exist_ok=True)
    probe = root / f".healthz-{secrets.token_hex(6)}"
    try:
        probe.write_bytes(b"ok")
    finally:
        probe.unlink(missing_ok=True)


async def check_storage() -> None:
    from app.storage.local import LocalStorage
    from app.storage.s3 import S3Storage

    store: Any = backends.storage()
    if isinstance(store, LocalStorage):
        await asyncio.to_thread(_probe_local, store.root)
    elif isinstance(store, S3Storage):
        await asyncio.to_thread(lambda: store.client().head_bucket(Bucket=store.bucket))
    else:
        raise TypeError("unknown storage backend")


CHECKS: dict[str, Callable[[], Awaitable[None]]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


async def _run(check: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(check(), TIMEOUT)
    except TimeoutError:
        return "error: timeout"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return OK


async def report() -> tuple[bool, dict[str, str]]:
    """(all ok, {"status": …, "database": …, "broker": …, "storage": …})."""
    names = list(CHECKS)
    results = await asyncio.gather(*(_run(CHECKS[name]) for name in names))
    checks = dict(zip(names, results, strict=True))
    healthy = all(result == OK for result in checks.values())
    return healthy, {"status": OK if healthy else "error", **checks}
