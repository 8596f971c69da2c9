"""Recovering from a dead worker, in-process: sweep leases (claim, renewal, takeover) and
each job's crash point, where a raised ``BaseException`` stands in for the kill
(tests/jobs/test_crash.py kills real worker processes on real brokers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import dramatiq
import pytest

from app import db
from app.accounts import queries as accounts
from app.cases import stats
from app.cases.ledger import managers
from app.cases.tables import StatDirty
from app.jobs import faults
from app.jobs import queries as sweep_queries
from app.jobs.sweeps import SWEEPS, run_sweep, sweep
from app.jobs.tables import SweepRun
from app.notify import queries as notify_queries
from app.notify import services as notify
from app.notify import tasks as notify_tasks
from app.notify.tables import InboxItem
from app.reports import exports
from app.reports.queries import exports as export_queries
from app.storage.tables import StoredFile
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests import reliability
from tests.cases.helpers import DIBAO, register
from tests.jobs.harness import Receiver, figures_match
from tests.reports.helpers import manager_scope, seed_form

CALLS: list[str] = []
MINUTE = timedelta(minutes=1)


class Killed(BaseException):
    """A worker killed at a checkpoint: no ``except Exception`` handler runs."""


async def _crashy(slot: str) -> None:
    CALLS.append(slot)
    if slot.startswith("die-") and CALLS.count(slot) == 1:
        raise RuntimeError("the worker died here")  # the claim stays, unfinished


async def _slow(slot: str) -> None:
    CALLS.append(slot)
    await asyncio.sleep(1.2)  # three leases: renewed meanwhile


@pytest.fixture
def test_sweeps() -> Iterator[None]:
    """Two sweeps for these tests only (registered here, so no scheduler tick sends them)."""
    sweep("test.crashy", every="minute", lease_seconds=60)(_crashy)
    sweep("test.slow", every="minute", lease_seconds=0.4)(_slow)
    yield
    del SWEEPS["test.crashy"], SWEEPS["test.slow"]


def _kill_at(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Make checkpoint ``name`` kill its job, once; returns the checkpoints reached."""
    reached: list[str] = []

    async def checkpoint(at: str) -> None:
        reached.append(at)
        if at == name and reached.count(at) == 1:
            raise Killed()

    monkeypatch.setattr(faults, "checkpoint", checkpoint)
    return reached


async def _system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="tests: recovery")


async def _backdate(name: str, slot: str, by: timedelta) -> None:
    await SweepRun.update({SweepRun.claimed_at: datetime.now(UTC) - by}).where(
        (SweepRun.sweep == name) & (SweepRun.slot == slot)
    )


async def _run(name: str, slot: str) -> dict[str, Any]:
    rows = [r for r in await sweep_queries.runs(name, 100) if r["slot"] == slot]
    assert len(rows) == 1
    return rows[0]


# --- sweeps ------------------------------------------------------------------------------


async def test_a_claim_is_a_lease_that_one_taker_gets_once_its_holder_is_silent() -> None:
    name, slot, lease = "test.lease", f"lease-{time.time_ns()}", MINUTE
    assert await sweep_queries.claim(name, slot, "a", lease) == "claimed"
    assert await sweep_queries.claim(name, slot, "b", lease) is None  # a is alive
    await _backdate(name, slot, 2 * lease)  # a fell silent
    taken = await asyncio.gather(*(sweep_queries.claim(name, slot, h, lease) for h in "bcd"))
    assert taken.count("taken over") == 1 and taken.count(None) == 2
    row = await _run(name, slot)
    winner = "bcd"[taken.index("taken over")]
    assert row["holder"] == winner and row["attempts"] == 2 and row["finished_at"] is None
    assert not await sweep_queries.renew(name, slot, "a")  # the old holder lost it
    assert await sweep_queries.renew(name, slot, winner)
    await sweep_queries.finish(name, slot)
    await _backdate(name, slot, 10 * lease)
    assert await sweep_queries.claim(name, slot, "e", lease) is None  # finished: never again


def test_a_sweep_killed_mid_run_is_taken_over_once_its_lease_runs_out(
    broker: dramatiq.Broker, worker: dramatiq.Worker, test_sweeps: None
) -> None:
    CALLS.clear()
    slot = f"die-{time.time_ns()}"
    run_sweep.send("test.crashy", slot)
    broker.join("sweeps", fail_fast=False)
    worker.join()
    reliability.record("faults")
    assert asyncio.run(_run("test.crashy", slot))["finished_at"] is None  # left claimed
    run_sweep.send("test.crashy", slot)  # redelivered at once (RabbitMQ): the lease holds
    broker.join("sweeps", fail_fast=False)
    worker.join()
    assert CALLS == [slot]
    asyncio.run(_backdate("test.crashy", slot, 2 * MINUTE))  # the lease has run out
    for _ in range(2):  # the scheduler re-sends the slot; a second copy finds it finished
        run_sweep.send("test.crashy", slot)
        broker.join("sweeps", fail_fast=False)
        worker.join()
    row = asyncio.run(_run("test.crashy", slot))
    assert CALLS == [slot, slot] and row["finished_at"] is not None and row["attempts"] == 2
    reliability.record("records_lost", abs(len(CALLS) - 2))


def test_a_running_sweep_renews_its_claim_so_it_is_not_taken_over(
    broker: dramatiq.Broker, worker: dramatiq.Worker, test_sweeps: None
) -> None:
    CALLS.clear()
    slot = f"slow-{time.time_ns()}"
    run_sweep.send("test.slow", slot)
    time.sleep(0.8)  # two leases of 0.4 s: alive only because it renews
    run_sweep.send("test.slow", slot)
    broker.join("sweeps", fail_fast=True)
    worker.join()
    row = asyncio.run(_run("test.slow", slot))
    assert CALLS == [slot] and row["attempts"] == 1 and row["finished_at"] is not None


# --- the group robot ---------------------------------------------------------------------


async def _sending(url: str, text: str, lease_until: datetime) -> tuple[TenantScope, int]:
    """A message as a worker leaves it when killed after claiming it for sending."""
    scope, xa = await _system(), (await tenancy.tree()).by_slug["xa"].id
    async with db.write(scope):
        await notify_queries.save_channel(scope, xa, "wecom", url, True)
        outbound_id = await notify.post(scope, xa, text, urgent=True)
        assert outbound_id is not None
        assert await notify_queries.claim_outbound(scope, outbound_id, lease_until)
    return scope, outbound_id


async def _failed_notices() -> int:
    scope = await _system()
    xa = (await tenancy.tree()).by_slug["xa"].id
    async with db.read(scope):
        return await InboxItem.count().where(
            (InboxItem.kind == "channel.failed") & (InboxItem.tenant == xa)
        )


@pytest.mark.parametrize("lease_left", [-60, 1.5])
def test_a_message_whose_worker_died_mid_send_fails_once_and_is_never_resent(
    broker: dramatiq.Broker, worker: dramatiq.Worker, receiver: Receiver, lease_left: float
) -> None:
    """Past its lease at once, or within it (checked again when it ends)."""
    before = asyncio.run(_failed_notices())
    until = datetime.now(UTC) + timedelta(seconds=lease_left)
    broker.flush_all()
    scope, outbound_id = asyncio.run(_sending(receiver.url, "dead worker", until))
    broker.flush_all()  # the message's own job went with the dead worker
    reliability.record("faults")
    for _ in range(2):  # the redelivery, and the release sweep's copy
        notify_tasks.deliver.send(outbound_id)
    broker.join("notify", fail_fast=True)
    worker.join()
    row = asyncio.run(notify_queries.outbound(scope, outbound_id))
    assert row is not None and row["status"] == "failed"
    assert row["last_error"] == notify_tasks.LOST
    assert receiver.texts == []  # at most once: never posted again
    told = asyncio.run(_failed_notices()) - before
    expected = len(asyncio.run(managers(scope, row["tenant_id"])))
    reliability.record("records_lost", abs(told - expected))
    assert told == expected > 0  # each manager told once


# --- the export and the aggregate --------------------------------------------------------


async def _export_job() -> tuple[TenantScope, int]:
    scope = await manager_scope("xa")
    user = await accounts.user_by_username("xa-manager")
    assert user is not None
    form = await seed_form()
    params = {"form": int(form["id"]), "from": 203101, "to": 203101, "under": scope.own()}
    job_id = await exports.request_export(scope, "rollup", params, SimpleNamespace(id=user["id"]))  # type: ignore[arg-type]
    return scope, job_id


async def _files(since: datetime) -> list[dict[str, Any]]:
    async with db.read(await _system()):
        return await StoredFile.select(StoredFile.id).where(
            (StoredFile.domain == exports.DOMAIN) & (StoredFile.created_at >= since)
        )


def test_an_export_killed_while_storing_keeps_neither_file_nor_done(
    broker: dramatiq.Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = datetime.now(UTC)
    scope, job_id = asyncio.run(_export_job())
    reached = _kill_at(monkeypatch, "reports.export.stored")
    with pytest.raises(Killed):
        asyncio.run(exports.run(job_id))
    reliability.record("faults")
    job = asyncio.run(export_queries.job(scope, job_id, scope.own()))
    assert reached == ["reports.export.stored"]
    assert job is not None and job["status"] == "running" and job["file_id"] is None
    assert asyncio.run(_files(since)) == []  # the file's row went with the transaction
    assert asyncio.run(exports.run(job_id)) == "done"  # the redelivery
    assert asyncio.run(exports.run(job_id)) == "done"  # and a late duplicate
    files = asyncio.run(_files(since))
    job = asyncio.run(export_queries.job(scope, job_id, scope.own()))
    reliability.record("records_lost", abs(len(files) - 1))
    assert (
        job is not None and job["status"] == "done" and [f["id"] for f in files] == [job["file_id"]]
    )


def test_two_deliveries_of_an_export_at_once_keep_one_file(broker: dramatiq.Broker) -> None:
    since = datetime.now(UTC)
    scope, job_id = asyncio.run(_export_job())

    async def both() -> list[str]:
        return list(await asyncio.gather(exports.run(job_id), exports.run(job_id)))

    assert asyncio.run(both()) == ["done", "done"]
    job = asyncio.run(export_queries.job(scope, job_id, scope.own()))
    files = asyncio.run(_files(since))
    assert job is not None and [f["id"] for f in files] == [job["file_id"]]


async def _marked() -> int:
    async with db.read(await _system()):
        return await StatDirty.count()


def test_figures_killed_mid_refresh_are_recomputed_not_doubled(
    broker: dramatiq.Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(stats.refresh())
    asyncio.run(register("xa-clerk", "xa", DIBAO, name="统计一"))
    asyncio.run(register("xa-clerk", "xa", DIBAO, name="统计二"))
    marked = asyncio.run(_marked())
    assert marked > 0
    _kill_at(monkeypatch, "cases.stats.stored")
    with pytest.raises(Killed):
        asyncio.run(stats.refresh())
    reliability.record("faults")
    assert asyncio.run(_marked()) == marked  # nothing of the batch committed
    monkeypatch.undo()
    asyncio.run(stats.refresh())
    asyncio.run(stats.refresh())  # a second run (a duplicate message) changes nothing
    compared, wrong = asyncio.run(figures_match())
    reliability.record("records_lost", len(wrong))
    assert compared > 0 and not wrong, wrong
