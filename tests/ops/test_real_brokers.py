"""``/healthz`` and the queue depth of ``/metrics`` against each real broker.

Marked ``brokers``: TEST_REDIS_URL, TEST_AMQP_URL and TEST_PG_ADMIN_URL must all be set
(``.ci/run``); a missing one fails the test rather than skipping it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
from collections.abc import Iterator

import dramatiq
import pytest

from app.jobs import make_broker
from app.ops import health, readings
from app.settings import settings
from tests.conftest import _with

pytestmark = pytest.mark.brokers

ENV = {"redis": "TEST_REDIS_URL", "rabbitmq": "TEST_AMQP_URL", "postgresql": "TEST_PG_ADMIN_URL"}


def _pg_queue_database(admin: str) -> Iterator[str]:
    import asyncpg

    name = f"bianmin_ops_queue_{secrets.token_hex(4)}"

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


@pytest.fixture(params=list(ENV))
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    name = ENV[request.param]
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: the broker tests need every broker")
    if request.param == "postgresql":
        yield from _pg_queue_database(os.environ[name])
    else:
        yield os.environ[name]


def _message(queue: str, n: int) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=queue, actor_name="ops_nothing", args=(n,), kwargs={}, options={}
    )


def _drop(broker: dramatiq.Broker, queue: str) -> None:
    kind = type(broker).__name__
    if kind == "RabbitmqBroker":
        import pika

        connection = pika.BlockingConnection(broker.parameters)  # type: ignore[attr-defined]
        try:
            channel = connection.channel()
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)
        finally:
            connection.close()
    elif kind == "RedisBroker":
        broker.flush(queue)


def test_queue_depth_and_health_on_a_real_broker(
    broker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = make_broker(broker_url)
    queue = f"ops-depth-{secrets.token_hex(4)}"
    broker.declare_queue(queue)
    try:
        for n in range(3):
            broker.enqueue(_message(queue, n))
        broker.enqueue(_message(queue, 9), delay=600_000)
        depths = readings.queue_depths(broker)
        assert depths[queue] == 3, depths
        assert depths[f"{queue}.DQ"] == 1, depths
    finally:
        _drop(broker, queue)
        broker.close()

    monkeypatch.setattr(health, "settings", dataclasses.replace(settings, broker_url=broker_url))
    assert asyncio.run(health._run(health.check_broker)) == "ok"
