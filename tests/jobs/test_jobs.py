"""Jobs: sent after commit (never for a rollback), idempotent sweeps, the in-process runner."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime

import dramatiq
import pytest
from starlette.testclient import TestClient

from app import db, jobs
from app.jobs import queries as sweep_queries
from app.jobs import runner
from app.jobs.sweeps import SWEEPS, run_sweep, slot_for, sweep, tick
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope

CALLS: list[str] = []

if "test.counter" not in SWEEPS:

    @sweep("test.counter", every="minute")
    async def _counter(slot: str) -> None:
        CALLS.append(slot)


async def _scope():  # type: ignore[no-untyped-def]
    return system_scope(await tenancy.tree(), reason="test")


async def test_a_job_is_sent_only_after_commit(broker: dramatiq.Broker) -> None:
    queue = broker.queues["sweeps"]
    async with db.write(await _scope()):
        jobs.send(run_sweep, "test.counter", "after-commit")
        assert queue.qsize() == 0  # not while the transaction is open
    assert queue.qsize() == 1


async def test_a_rolled_back_change_sends_nothing(broker: dramatiq.Broker) -> None:
    queue = broker.queues["sweeps"]
    with pytest.raises(RuntimeError):
        async with db.write(await _scope()):
            jobs.send(run_sweep, "test.counter", "rolled-back")
            raise RuntimeError("the user's change failed")
    assert queue.qsize() == 0


async def test_outside_a_transaction_a_job_is_sent_at_once(broker: dramatiq.Broker) -> None:
    jobs.send(run_sweep, "test.counter", "no-transaction")
    assert broker.queues["sweeps"].qsize() == 1


def test_a_sweep_slot_runs_once_however_often_it_is_sent(
    broker: dramatiq.Broker, worker: dramatiq.Worker
) -> None:
    CALLS.clear()
    for _ in range(3):  # a second scheduler, a redelivery, a re-run
        run_sweep.send("test.counter", "2026-11-26T10:00")
    run_sweep.send("test.counter", "2026-11-26T10:01")
    broker.join("sweeps", fail_fast=True)
    worker.join()
    assert sorted(CALLS) == ["2026-11-26T10:00", "2026-11-26T10:01"]


def test_two_schedulers_ticking_at_once_run_each_sweep_once(
    broker: dramatiq.Broker, worker: dramatiq.Worker
) -> None:
    CALLS.clear()
    moment = datetime(2031, 1, 2, 3, 4, tzinfo=UTC)
    tick(moment)
    tick(moment)
    broker.join("sweeps", fail_fast=True)
    worker.join()
    assert CALLS == [slot_for("minute", moment)]
    rows = asyncio.run(sweep_queries.runs("test.counter"))
    assert any(r["slot"] == CALLS[0] and r["finished_at"] is not None for r in rows)


def test_slots_are_local_days_and_hours() -> None:
    moment = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # 01:30 on the 27th in Beijing time
    assert slot_for("day", moment) == "2026-11-27"
    assert slot_for("hour", moment) == "2026-11-27T01"
    assert slot_for("minute", moment) == "2026-11-27T01:30"


def test_in_process_mode_runs_a_real_sweep(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """With no BROKER_URL the web process runs the worker and the scheduler itself."""
    jobs.load_tasks()
    jobs.broker().flush_all()
    monkeypatch.setattr(
        runner, "settings", dataclasses.replace(runner.settings, run_jobs_in_process=True)
    )
    with TestClient(app):
        deadline = time.monotonic() + 15
        slot = None
        while time.monotonic() < deadline:
            rows = asyncio.run(sweep_queries.runs("accounts.forget_idle"))
            now_slot = slot_for("hour", datetime.now(UTC))
            found = [r for r in rows if r["slot"] == now_slot and r["finished_at"] is not None]
            if found:
                slot = found[0]["slot"]
                break
            time.sleep(0.2)
    assert slot is not None, "the scheduler's first tick should have run the hourly sweep"


def test_worker_and_scheduler_refuse_to_start_without_a_broker(capsys) -> None:  # type: ignore[no-untyped-def]
    assert runner.run_worker(1) == 2
    assert "BROKER_URL is not set" in capsys.readouterr().out
    assert runner.run_scheduler() == 2
    assert "BROKER_URL is not set" in capsys.readouterr().out
