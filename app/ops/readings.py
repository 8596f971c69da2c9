"""Readings taken when ``/metrics`` is scraped: queue depth per queue, open cases by light.

Each reading has its own time limit; one that fails or times out is left out of the answer
and ``bianmin_scrape_ok{part}`` says so (the rest of the scrape still answers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from app import jobs
from app.ops import queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope

log = logging.getLogger("bianmin.ops")
TIMEOUT = 2.0
LIGHTS = ("green", "yellow", "red", "none")


# --- queue depth, per broker ------------------------------------------------------------------


def _stub_depths(broker: Any) -> dict[str, int]:
    return {name: queue.qsize() for name, queue in broker.queues.items()}


def _queue_names(broker: dramatiq.Broker) -> list[str]:
    return sorted(broker.get_declared_queues() | broker.get_declared_delay_queues())


def _redis_depths(broker: Any) -> dict[str, int]:
    """dramatiq keeps each queue's waiting message ids in the list ``<namespace>:<queue>``."""
    names = _queue_names(broker)
    pipe = broker.client.pipeline(transaction=False)
    for name in names:
        pipe.llen(f"{broker.namespace}:{name}")
    return {name: int(n) for name, n in zip(names, pipe.execute(), strict=True)}


def _rabbitmq_depths(broker: Any) -> dict[str, int]:
    """A passive ``queue_declare`` answers ``message_count`` (ready messages) without
    creating anything; one short connection per scrape."""
    import pika
    from pika.exceptions import ChannelClosedByBroker

    depths: dict[str, int] = {}
    connection = pika.BlockingConnection(broker.parameters)
    try:
        channel = connection.channel()
        for name in _queue_names(broker):
            try:
                declared = channel.queue_declare(name, passive=True)
            except ChannelClosedByBroker:  # not declared on the server yet
                channel = connection.channel()
                continue
            depths[name] = int(declared.method.message_count)
    finally:
        connection.close()
    return depths


def _postgres_depths(broker: Any) -> dict[str, int]:
    """dramatiq-postgres keeps every queue in one table (schema ``dramatiq``): the rows still
    ``queued`` (delayed ones under ``<queue>.DQ``) are the depth."""
    from dramatiq_postgres.utils import transaction

    depths = dict.fromkeys(_queue_names(broker), 0)
    with transaction(broker.pool) as cursor:
        cursor.execute(
            "SELECT queue_name, count(*) FROM dramatiq.queue WHERE state = 'queued'"
            " GROUP BY queue_name"
        )
        for name, count in cursor.fetchall():
            depths[str(name)] = int(count)
    return depths


def queue_depths(broker: dramatiq.Broker) -> dict[str, int]:
    """Messages waiting per queue (blocking: call it in a thread)."""
    kind = type(broker).__name__
    if kind == "StubBroker":
        return _stub_depths(broker)
    if kind == "RedisBroker":
        return _redis_depths(broker)
    if kind == "RabbitmqBroker":
        return _rabbitmq_depths(broker)
    if kind == "PostgresBroker":
        return _postgres_depths(broker)
    raise TypeError(f"no queue depth for {kind}")


# --- the families -----------------------------------------------------------------------------


async def _queue_family() -> Metric:
    depths = await asyncio.to_thread(queue_depths, jobs.broker())
    family = GaugeMetricFamily(
        "bianmin_queue_depth",
        "Messages waiting in the broker, per queue (<queue>.DQ: delayed retries).",
        labels=["queue"],
    )
    for name, depth in sorted(depths.items()):
        family.add_metric([name], depth)
    return family


async def _lights_family() -> Metric:
    tree = await tenancy.tree()
    rows = await queries.open_cases_by_light(system_scope(tree, reason="ops.metrics: lights"))
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        node = tree.nodes.get(row["tenant_id"])
        if node is None:
            continue
        light = row["light"] if row["light"] in LIGHTS else "none"
        counts[node.slug, light] = counts.get((node.slug, light), 0) + int(row["n"])
    family = GaugeMetricFamily(
        "bianmin_open_cases",
        "Open cases by supervision light (none: an item without a time limit), per centre.",
        labels=["tenant", "light"],
    )
    for slug in sorted({slug for slug, _ in counts}):
        for light in LIGHTS:
            family.add_metric([slug, light], counts.get((slug, light), 0))
    return family


PARTS: dict[str, Callable[[], Awaitable[Metric]]] = {
    "queues": _queue_family,
    "lights": _lights_family,
}


async def _read(part: str) -> Metric | None:
    try:
        return await asyncio.wait_for(PARTS[part](), TIMEOUT)
    except Exception as exc:  # a scrape never fails as a whole; the gauge says what is missing
        log.warning("metrics reading %s failed: %s", part, type(exc).__name__)
        return None


async def families() -> list[Metric]:
    """Every scrape-time family, read concurrently, plus ``bianmin_scrape_ok``."""
    names = list(PARTS)
    results = await asyncio.gather(*(_read(name) for name in names))
    ok = GaugeMetricFamily(
        "bianmin_scrape_ok", "1 when the scrape-time reading succeeded.", labels=["part"]
    )
    out: list[Metric] = []
    for name, family in zip(names, results, strict=True):
        ok.add_metric([name], 0 if family is None else 1)
        if family is not None:
            out.append(family)
    return [*out, ok]
