"""Crash-safe jobs on each real broker: a worker SIGKILLed in the middle of three jobs.

Three real jobs are queued through the app's own code (``notify.post``, ``request_export``,
the scheduler's ``run_sweep``) and a worker is started with ``BIANMIN_FAULT_PAUSE`` naming
the dangerous spot of each (app/jobs/faults.py):

* ``notify.deliver.posted`` — the group robot has received the POST, the outbound row still
  says ``sending``;
* ``reports.export.stored`` — the workbook's object and file row are written, the job is not
  yet marked done (all in one open transaction);
* ``cases.stats.stored`` — some monthly figures are written (uncommitted) by the
  ``cases.stats`` sweep, whose (sweep, slot) claim is committed.

Once all three have reported in, the worker's process group is SIGKILLed and a second
worker (no faults) is started after the leases (shortened to 2 s here) have run out.  Then
each effect must exist exactly once: one POST (never re-sent; the message is marked failed
with "delivery unknown" and each manager told once), one export file and row with the job
done, the figures equal to a recomputation (not doubled) with the sweep's slot taken over
and finished.  (The killed attempt's object — bytes no row points at — stays in the store;
the test prints how many.)
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dramatiq
import pytest

from app import db, jobs
from app.accounts import queries as accounts
from app.cases.ledger import managers
from app.jobs import queries as sweep_queries
from app.notify import queries as notify_queries
from app.notify import services as notify
from app.notify.tables import InboxItem
from app.notify.tasks import LOST
from app.reports import exports
from app.reports.queries import exports as export_queries
from app.settings import settings
from app.storage import services as storage
from app.storage.tables import StoredFile
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests import reliability
from tests.cases.helpers import DIBAO, MARRIAGE, register
from tests.jobs import harness
from tests.jobs.harness import Receiver
from tests.reports.helpers import manager_scope, seed_form

pytestmark = pytest.mark.brokers

CHECKPOINTS = ("notify.deliver.posted", "reports.export.stored", "cases.stats.stored")
LEASE = "2"  # seconds: BIANMIN_LEASE_SECONDS for both workers


async def _system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="tests: crash")


async def _xa() -> int:
    return (await tenancy.tree()).by_slug["xa"].id


async def _queue_jobs(receiver_url: str, token: str) -> dict[str, Any]:
    """Queue the three jobs through the app's own code (onto the in-process broker)."""
    scope, xa = await _system(), await _xa()
    async with db.write(scope):
        await notify_queries.save_channel(scope, xa, "wecom", receiver_url, True)
    async with db.write(scope):
        outbound_id = await notify.post(scope, xa, f"crash test {token}", urgent=True)
    manager = await manager_scope("xa")
    user = await accounts.user_by_username("xa-manager")
    assert user is not None and outbound_id is not None
    form = await seed_form()
    params = {"form": int(form["id"]), "from": 203001, "to": 203002, "under": xa}
    job_id = await exports.request_export(manager, "rollup", params, SimpleNamespace(id=user["id"]))  # type: ignore[arg-type]
    # New cases mark their months for the stats sweep (its own message is dropped below:
    # the sweep is sent as the scheduler sends it).
    await register("xa-clerk", "xa", DIBAO, name="崩溃一")
    await register("xa-clerk", "xa", MARRIAGE, name="崩溃二")
    return {"outbound": outbound_id, "job": job_id}


async def _channel_failed_notices() -> int:
    async with db.read(await _system()):
        return await InboxItem.count().where(
            (InboxItem.kind == "channel.failed") & (InboxItem.tenant == await _xa())
        )


async def _state(ids: dict[str, Any], slot: str) -> dict[str, Any]:
    scope = await _system()
    outbound = await notify_queries.outbound(scope, ids["outbound"])
    job = await export_queries.job_by_id(scope, ids["job"])
    runs = [r for r in await sweep_queries.runs("cases.stats", 50) if r["slot"] == slot]
    assert outbound is not None and job is not None
    return {"outbound": outbound, "job": job, "run": runs[0] if runs else None}


def _done(state: dict[str, Any]) -> bool:
    return (
        state["outbound"]["status"] in ("sent", "failed")
        and state["job"]["status"] in ("done", "failed")
        and state["run"] is not None
        and state["run"]["finished_at"] is not None
    )


async def _export_files(since: datetime) -> list[dict[str, Any]]:
    async with db.read(await _system()):
        return await StoredFile.select().where(
            (StoredFile.tenant == await _xa())
            & (StoredFile.domain == exports.DOMAIN)
            & (StoredFile.created_at >= since)
        )


async def _unreferenced_objects() -> set[str]:
    """Objects under xa's export folder that no file row points at (the local store)."""
    folder = settings.var_dir / "files" / "tenants" / "xa" / exports.DOMAIN
    on_disk = {f"tenants/xa/{exports.DOMAIN}/{p.name}" for p in folder.glob("[!.]*")}
    async with db.read(await _system()):
        rows = await StoredFile.select(StoredFile.storage_key).where(
            StoredFile.storage_key.is_in(sorted(on_disk) or ["-"])
        )
    return on_disk - {r["storage_key"] for r in rows}


def test_a_worker_killed_mid_job_leaves_each_effect_once(
    broker_url: str, receiver: Receiver
) -> None:
    if not db.is_postgres():  # two jobs paused inside SQLite write transactions would block
        pytest.fail("the crash test needs TEST_PG_ADMIN_URL (its database on PostgreSQL)")
    started = time.monotonic()
    since = datetime.now(UTC)
    token = secrets.token_hex(4)
    slot = f"crash-{token}"
    jobs.load_tasks()
    jobs.broker().flush_all()
    ids = asyncio.run(_queue_jobs(receiver.url, token))
    notices_before = asyncio.run(_channel_failed_notices())
    orphans_before = asyncio.run(_unreferenced_objects())
    sweep = dramatiq.Message(
        queue_name="sweeps",
        actor_name="run_sweep",
        args=("cases.stats", slot),
        kwargs={},
        options={},
    )
    assert harness.forward(broker_url, ["notify", "exports"], [sweep]) == 3
    jobs.broker().flush_all()  # the cases' own stats message: the sweep does that work

    faults = Path(tempfile.mkdtemp(prefix="bianmin-faults-"))
    first = harness.worker(
        broker_url,
        BIANMIN_FAULT_PAUSE=",".join(CHECKPOINTS),
        BIANMIN_FAULT_DIR=str(faults),
        BIANMIN_LEASE_SECONDS=LEASE,
    )
    second = None
    try:
        harness.wait_for(
            "the first worker reaches every checkpoint",
            lambda: all((faults / c).exists() for c in CHECKPOINTS),
            60,
            first,
        )
        halfway = asyncio.run(_state(ids, slot))
        assert receiver.texts == [f"crash test {token}"]  # the robot has it …
        assert halfway["outbound"]["status"] == "sending"  # … the row does not know yet
        assert halfway["job"]["status"] == "running" and halfway["job"]["file_id"] is None
        assert halfway["run"] is not None and halfway["run"]["finished_at"] is None
        first.kill()
        reliability.record("faults")
        killed = time.monotonic()
        time.sleep(float(LEASE) + 1)  # every lease the dead worker held has run out
        second = harness.worker(broker_url, BIANMIN_LEASE_SECONDS=LEASE)
        final = harness.wait_for(
            "the second worker finishes the three jobs",
            lambda: (s := asyncio.run(_state(ids, slot))) and _done(s) and s,
            150,
            second,
        )
        recovered = time.monotonic() - killed
    finally:
        first.kill()
        first.stop()
        if second is not None:
            second.stop()
        shutil.rmtree(faults, ignore_errors=True)
    print(
        f"\n{broker_url.split(':')[0]}: recovered {recovered:.1f} s after the kill,"
        f" test {time.monotonic() - started:.1f} s"
    )

    lost = 0
    # The group robot: never posted twice; the unknown outcome is recorded and told once.
    posts = receiver.texts.count(f"crash test {token}")
    lost += abs(posts - 1)
    outbound = final["outbound"]
    assert posts == 1, receiver.texts
    assert outbound["status"] == "failed" and outbound["last_error"] == LOST
    told = asyncio.run(_channel_failed_notices()) - notices_before
    expected = len(asyncio.run(managers(asyncio.run(_system()), asyncio.run(_xa()))))
    lost += abs(told - expected)
    assert told == expected > 0
    # The export: one file and one row, attached to the job, its bytes intact.
    job = final["job"]
    files = asyncio.run(_export_files(since))
    lost += abs(len(files) - 1)
    assert job["status"] == "done" and len(files) == 1 and files[0]["id"] == job["file_id"]
    info = storage.StoredFileInfo.of(files[0])
    assert asyncio.run(_read(info))[:2] == b"PK"
    orphans = asyncio.run(_unreferenced_objects()) - orphans_before
    print(f"export objects without a row left by the kill: {len(orphans)}")
    # The aggregate: the figures equal a recount, the slot was taken over and finished.
    compared, wrong = asyncio.run(harness.figures_match())
    lost += len(wrong)
    assert compared > 0 and not wrong, wrong
    assert final["run"]["attempts"] == 2
    reliability.record("records_lost", lost)


async def _read(info: storage.StoredFileInfo) -> bytes:
    return await (await storage.open_verified(info)).read()
