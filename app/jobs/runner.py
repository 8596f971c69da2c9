"""Running jobs: in the web process (no BROKER_URL) or as the worker / scheduler processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator

import dramatiq

from app import jobs
from app.jobs import scheduler
from app.settings import settings

log = logging.getLogger("bianmin.jobs")
NO_BROKER = (
    "BROKER_URL is not set: without a broker the web process runs the worker and the "
    "scheduler itself (the embedded default). Set BROKER_URL to redis://, amqp:// or "
    "postgresql:// to run them as separate processes."
)


@contextlib.asynccontextmanager
async def in_process() -> AsyncIterator[None]:
    """Worker threads and the scheduler inside the web process (BROKER_URL unset)."""
    if not (jobs.is_in_process() and settings.run_jobs_in_process):
        jobs.load_tasks()
        yield
        return
    jobs.load_tasks()
    worker = dramatiq.Worker(jobs.broker(), worker_threads=2, worker_timeout=250)
    worker.start()
    stop = asyncio.Event()
    ticking = asyncio.create_task(scheduler.run(stop))
    try:
        yield
    finally:
        stop.set()
        await ticking
        await asyncio.to_thread(worker.stop, 5000)


def run_worker(threads: int) -> int:
    """``python -m app worker``: consume every queue until SIGTERM/SIGINT."""
    if jobs.is_in_process():
        print(NO_BROKER)
        return 2
    jobs.load_tasks()
    worker = dramatiq.Worker(jobs.broker(), worker_threads=threads)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    worker.start()
    log.info("worker started with %d threads", threads)
    done.wait()
    worker.stop()
    jobs.broker().close()
    return 0


def run_scheduler() -> int:
    """``python -m app scheduler``: send each sweep's slot once a minute."""
    if jobs.is_in_process():
        print(NO_BROKER)
        return 2
    jobs.load_tasks()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await scheduler.run(stop)

    asyncio.run(main())
    jobs.broker().close()
    return 0
