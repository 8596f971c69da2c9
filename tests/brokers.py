"""Job fixtures for every test module (a pytest plugin, see tests/conftest.py):

* ``broker`` / ``worker``: the in-process (stub) broker, flushed, and a real dramatiq worker
  on it, for tests that run actors;
* ``broker_url``: each real broker in turn (Redis, RabbitMQ, PostgreSQL via a throwaway
  queue database), for ``make test-brokers``; a missing URL fails rather than skips.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator

import dramatiq
import pytest

from app import jobs


def _with(url: str, user: str, database: str) -> str:
    from tests.conftest import _with as with_

    return with_(url, user, database)


@pytest.fixture
def broker() -> Iterator[dramatiq.Broker]:
    jobs.load_tasks()
    broker = jobs.broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def worker(broker: dramatiq.Broker) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


def _pg_broker_url() -> Iterator[str]:
    """A throwaway database for dramatiq-postgres's queue (dropped afterwards)."""
    import asyncpg

    admin = os.environ["TEST_PG_ADMIN_URL"]
    name = f"bianmin_queue_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        con = await asyncpg.connect(admin)
        try:
            await con.execute(sql)
        finally:
            await con.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield _with(admin, "postgres", name)
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


BROKER_ENV = {
    "redis": "TEST_REDIS_URL",
    "rabbitmq": "TEST_AMQP_URL",
    "postgresql": "TEST_PG_ADMIN_URL",
}


@pytest.fixture(params=list(BROKER_ENV))
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each real broker in turn; a missing URL fails (``make test-brokers`` needs all)."""
    name = BROKER_ENV[request.param]
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: make test-brokers needs every broker")
    if request.param == "postgresql":
        yield from _pg_broker_url()
    else:
        yield os.environ[name]
