"""``/healthz`` and the queue depth of ``/metrics`` against each real broker.

Marked ``brokers``: TEST_REDIS_URL, TEST_AMQP_URL and TEST_PG_ADMIN_URL must all be set
(``.ci/run``); a missing one fails the test rather than skipping it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets

import dramatiq
import pytest

from app.jobs import make_broker
from app.ops import health, readings
from app.settings import settings

pytestmark = pytest.mark.brokers


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
