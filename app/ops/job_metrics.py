"""A dramatiq middleware counting jobs for ``/metrics``, in whichever process runs them (the
``worker`` process, or the web process in the embedded mode).

Per actor and queue: attempts run, attempts that raised, failed attempts queued again,
jobs given up, and the time each attempt took.  It sits *before* ``Retries`` in the broker's
list: dramatiq calls ``after_*`` hooks in reverse order, so by the time it sees a failed
attempt ``Retries`` has already decided (``message.failed`` set when it gave up).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.common import q_name
from dramatiq.middleware import Middleware, Retries

from app.ops.prometheus import JOB_DURATION, JOBS_DEAD, JOBS_FAILED, JOBS_PROCESSED, JOBS_RETRIED


class JobMetrics(Middleware):
    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()

    def _took(self, message: Any) -> float | None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        return None if started is None else time.perf_counter() - started

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        labels = (message.actor_name, q_name(message.queue_name))
        took = self._took(message)
        JOBS_PROCESSED.labels(*labels).inc()
        if took is not None:
            JOB_DURATION.labels(*labels).observe(took)
        if exception is not None:
            JOBS_FAILED.labels(*labels).inc()
            if message.failed:
                JOBS_DEAD.labels(*labels).inc()
            else:
                JOBS_RETRIED.labels(*labels).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._took(message)


def install(broker: dramatiq.Broker) -> None:
    """Add the middleware where it sees ``Retries``' decision (at the end without one)."""
    if any(isinstance(m, Retries) for m in broker.middleware):
        broker.add_middleware(JobMetrics(), before=Retries)
    else:
        broker.add_middleware(JobMetrics())
