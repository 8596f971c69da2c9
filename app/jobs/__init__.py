"""Background jobs: one dramatiq broker chosen by BROKER_URL, actors in each domain's tasks.py.

* unset → an in-process broker; the web process runs the worker and the scheduler itself
  (what ``make run`` uses);
* ``redis://`` → Redis (a dead worker's messages come back within ~10 s);
* ``amqp://`` → RabbitMQ;
* ``postgresql://`` → PostgreSQL (dramatiq-postgres; its schema is created on first use;
  a dead worker's messages come back within half a minute).

Delivery is at least once.  A SIGKILLed worker's message is delivered again (RabbitMQ at
once, Redis and PostgreSQL once the worker's heartbeat is stale), so every actor makes its
effect exactly once by claiming or committing it atomically (tests/jobs/test_crash.py).

Actors take ids, are idempotent and are sent after the surrounding transaction commits
(:func:`send`).  They run on the worker's own event loop and so use the engine's pool for
that loop, never the web loop's (see ``db.LoopLocalPostgresEngine``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from app import db
from app.settings import settings

log = logging.getLogger("bianmin.jobs")

# Every module that declares actors; imported by the worker, the scheduler and the web app.
TASK_MODULES = (
    "app.jobs.sweeps",
    "app.accounts.tasks",
    "app.notify.tasks",
    "app.catalogue.tasks",
    "app.cases.tasks",
    "app.reports.tasks",
    "app.supervision.tasks",
)

_broker: dramatiq.Broker | None = None
F = TypeVar("F", bound=Callable[..., Any])


def make_broker(url: str | None) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        # Defaults redelivered a killed worker's message only after minutes (PITFALLS.md).
        # A worker is dead after 5 s without a heartbeat, and every command checks for dead
        # workers (a few small Redis operations), so its messages come back within ~10 s;
        # with maintenance on 10 % of commands it took 12–41 s, one queue at a time.
        broker = RedisBroker(url=url, heartbeat_timeout=5000, maintenance_chance=1_000_000)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)  # heartbeat etc. go in the URL query (pika)
    elif url.startswith(("postgres://", "postgresql://")):
        from dramatiq_postgres import PostgresBroker

        url = url.replace("postgres://", "postgresql://", 1)
        ensure_postgres_queue(url)
        # A killed worker's messages are requeued once its heartbeat is older than the TTL,
        # by whichever worker runs the maintenance next: 20–28 s with these (the defaults,
        # 15 s / 60 s / 30 s, took 60–105 s).
        broker = PostgresBroker(
            url=url, heartbeat_interval=5.0, heartbeat_ttl=20.0, maintenance_interval=5.0
        )
    else:
        raise ValueError(f"unsupported BROKER_URL scheme: {url.split(':', 1)[0]}")
    broker.add_middleware(AsyncIO())
    from app.ops import job_metrics  # jobs run / failed / retried for /metrics

    job_metrics.install(broker)
    return broker


def ensure_postgres_queue(url: str) -> None:
    """Create dramatiq-postgres's schema once (idempotent, serialised on an advisory lock)."""
    import psycopg
    from dramatiq_postgres import init

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        if init(cursor):
            log.info("created the dramatiq queue schema")


def broker() -> dramatiq.Broker:
    """The process's broker, created from BROKER_URL on first use."""
    global _broker
    if _broker is None:
        _broker = make_broker(settings.broker_url)
        dramatiq.set_broker(_broker)
    return _broker


def is_in_process() -> bool:
    return not settings.broker_url


def load_tasks() -> None:
    broker()
    for module in TASK_MODULES:
        importlib.import_module(module)


def actor(fn: F | None = None, **options: Any) -> Any:
    """``dramatiq.actor`` bound to our broker (never dramatiq's implicit default)."""
    options.setdefault("max_retries", 5)
    options.setdefault("min_backoff", 2_000)
    options.setdefault("max_backoff", 300_000)

    def decorate(func: F) -> Any:
        return dramatiq.actor(broker=broker(), **options)(func)

    return decorate(fn) if fn is not None else decorate


def send(job: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``job(*args)`` once the current transaction commits (at once outside one)."""
    db.on_commit(lambda: job.send(*args, **kwargs))


def send_with_options(job: Any, args: tuple[Any, ...], **options: Any) -> None:
    db.on_commit(lambda: job.send_with_options(args=args, **options))
