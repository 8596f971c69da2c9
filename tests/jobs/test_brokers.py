"""Jobs through each real broker: a worker process picks up a message and runs the sweep.

Run by ``make test-brokers`` (``.ci/run`` provides TEST_REDIS_URL, TEST_AMQP_URL and
TEST_PG_ADMIN_URL); a missing URL fails the test rather than skipping it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import dramatiq
import pytest

from app.jobs import make_broker
from app.jobs import queries as sweep_queries
from tests.conftest import ROOT, _with

pytestmark = pytest.mark.brokers


def _pg_broker_url() -> Iterator[str]:
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


@pytest.fixture(params=["redis", "rabbitmq", "postgresql"])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    env = {
        "redis": "TEST_REDIS_URL",
        "rabbitmq": "TEST_AMQP_URL",
        "postgresql": "TEST_PG_ADMIN_URL",
    }
    name = env[request.param]
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: make test-brokers needs every broker")
    if request.param == "postgresql":
        yield from _pg_broker_url()
    else:
        yield os.environ[name]


def _enqueue(url: str, slot: str) -> None:
    broker = make_broker(url)
    try:
        broker.declare_queue("sweeps")
        broker.enqueue(
            dramatiq.Message(
                queue_name="sweeps",
                actor_name="run_sweep",
                args=("accounts.forget_idle", slot),
                kwargs={},
                options={},
            )
        )
    finally:
        broker.close()


def test_a_worker_process_runs_the_job(broker_url: str) -> None:
    slot = f"broker-{secrets.token_hex(4)}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--threads", "2"],
        cwd=ROOT,
        env={**os.environ, "BROKER_URL": broker_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _enqueue(broker_url, slot)
        deadline = time.monotonic() + 60
        done = False
        while time.monotonic() < deadline and not done:
            rows = asyncio.run(sweep_queries.runs("accounts.forget_idle", limit=200))
            done = any(r["slot"] == slot and r["finished_at"] is not None for r in rows)
            if worker.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert done, f"the worker did not run the job within 60 s:\n{output[-3000:]}"
