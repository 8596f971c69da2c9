"""A real dramatiq worker on the in-process (stub) broker, for tests that run actors."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest

from app import jobs


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
