"""Jobs through each real broker: a worker process picks up a message and runs the sweep;
two schedulers started by mistake send nothing twice (tests/jobs/test_crash.py: killed
workers).

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
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest

from app import db, jobs
from app.jobs import make_broker
from app.jobs import queries as sweep_queries
from app.jobs.sweeps import FORMATS, SWEEPS, slot_for
from app.jobs.tables import SweepRun
from app.notify import queries as notify_queries
from app.notify import services as notify
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests import reliability
from tests.conftest import ROOT
from tests.jobs import harness
from tests.jobs.harness import Receiver

pytestmark = pytest.mark.brokers


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


async def _lost_message(url: str, text: str) -> int:
    """A channel message whose job never ran (queued 11 minutes ago): the minute sweep
    ``notify.release`` sends it again.  Urgent, so that its delivery does not depend on the
    hour the test runs at (service hours)."""
    tree = await tenancy.tree()
    scope, xa = system_scope(tree, reason="tests: schedulers"), tree.by_slug["xa"].id
    async with db.write(scope):
        await notify_queries.save_channel(scope, xa, "wecom", url, True)
        outbound_id = await notify.post(scope, xa, text, urgent=True)
        assert outbound_id is not None
        await notify_queries.update_outbound(
            scope, outbound_id, created_at=datetime.now(UTC) - timedelta(minutes=11)
        )
    return outbound_id


async def _claims_since(moment: datetime) -> list[dict[str, Any]]:
    return await SweepRun.select().where(SweepRun.claimed_at >= moment)


def test_two_schedulers_send_nothing_twice(broker_url: str, receiver: Receiver) -> None:
    """Two ``python -m app scheduler`` processes (one started by mistake) ticking every
    second with one worker: each (sweep, slot) runs once, and a message the minute sweep
    re-sends reaches the group robot once."""
    started = datetime.now(UTC)
    text = f"schedulers {secrets.token_hex(4)}"
    jobs.load_tasks()
    outbound_id = asyncio.run(_lost_message(receiver.url, text))
    jobs.broker().flush_all()  # its own job is "lost": only the sweep sends it
    # Slots an earlier broker's run claimed (the same minute, hour, day) run again here.
    asyncio.run(SweepRun.delete().where(SweepRun.slot.is_in(_current_slots())).run())
    worker = harness.worker(broker_url)
    tick = {"BIANMIN_SCHEDULER_TICK_SECONDS": "1"}
    schedulers = [harness.scheduler(broker_url, **tick), harness.scheduler(broker_url, **tick)]
    reliability.record("faults")  # the second scheduler
    procs = [worker, *schedulers]
    try:
        harness.wait_for("the lost message is sent", lambda: text in receiver.texts, 60, *procs)
        time.sleep(3)  # a few more ticks of both
        assert all(s.alive() for s in schedulers), [s.output() for s in schedulers]
        for scheduler in schedulers:
            scheduler.stop()
        harness.wait_for(
            "every claimed slot is finished",
            lambda: (
                (rows := asyncio.run(_claims_since(started)))
                and all(r["finished_at"] is not None for r in rows)
            ),
            60,
            worker,
        )
        time.sleep(1)  # what was still queued finds its slot finished
    finally:
        for proc in procs:
            proc.stop()
    rows = asyncio.run(_claims_since(started))
    slots = [(r["sweep"], r["slot"]) for r in rows]
    # Each slot claimed once, never taken over, and its body run once (the worker's log).
    ran = [worker.text.count(f"sweep {sweep} ran slot {slot} in ") for sweep, slot in slots]
    doubled = len(slots) - len(set(slots)) + sum(r["attempts"] - 1 for r in rows)
    doubled += sum(abs(n - 1) for n in ran)
    posts = receiver.texts.count(text)
    reliability.record("records_lost", doubled + abs(posts - 1))
    app_sweeps = {n for n, s in SWEEPS.items() if s.run.__module__.startswith("app.")}
    assert {name for name, _slot in slots} == app_sweeps  # every sweep ran …
    assert doubled == 0, (rows, ran)  # … each slot once
    assert posts == 1, receiver.texts
    outbound = asyncio.run(notify_queries.outbound(_system(), outbound_id))
    assert outbound is not None and outbound["status"] == "sent"


def _current_slots() -> list[str]:
    now = datetime.now(UTC)
    return sorted(
        {slot_for(every, now + timedelta(seconds=s)) for every in FORMATS for s in (0, 60)}
    )


def _system() -> TenantScope:
    return system_scope(asyncio.run(tenancy.tree()), reason="tests: schedulers")
