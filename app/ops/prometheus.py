"""Prometheus metrics: the definitions, the ``/metrics`` text, and multiprocess mode.

Counted as they happen (in whichever process does the work):

* ``http_requests_total{route,method,status}`` and ``http_request_duration_seconds{route,method}``
  — by route *template* (``/t/{slug}/cases/{case_id}``), never the raw path;
* ``bianmin_jobs_processed_total`` / ``_failed_total`` / ``_retried_total`` / ``_dead_total``
  and ``bianmin_job_duration_seconds``, by ``actor`` and ``queue``.

Read at scrape time (:mod:`app.ops.readings`): ``bianmin_queue_depth{queue}`` and
``bianmin_open_cases{tenant,light}``.

Several processes on one host (``serve --workers N``, plus a job worker) share counts through
prometheus_client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` must be set *before* this
module is imported (``serve`` sets it to ``$VAR_DIR/prometheus`` for N > 1); every process
then writes its counts to files there and a scrape of any web worker adds them up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(ENV) or None


if multiprocess_dir():  # a fresh host: the directory must exist before the first count
    Path(str(multiprocess_dir())).mkdir(parents=True, exist_ok=True)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (until the last byte was handed on), by route template.",
    ["route", "method"],
)
JOB_LABELS = ["actor", "queue"]
JOBS_PROCESSED = Counter("bianmin_jobs_processed", "Job attempts run.", JOB_LABELS)
JOBS_FAILED = Counter("bianmin_jobs_failed", "Job attempts that raised.", JOB_LABELS)
JOBS_RETRIED = Counter("bianmin_jobs_retried", "Failed attempts queued again.", JOB_LABELS)
JOBS_DEAD = Counter("bianmin_jobs_dead", "Jobs given up after their last retry.", JOB_LABELS)
JOB_DURATION = Histogram(
    "bianmin_job_duration_seconds",
    "Time one job attempt took.",
    JOB_LABELS,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600),
)


class _Readings:
    """A collector holding families computed before the scrape (the async reads)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def render(readings: Iterable[Metric] = ()) -> bytes:
    """The exposition text: the counted metrics (summed over processes in multiprocess mode)
    followed by the scrape-time ``readings``."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
        text = generate_latest(counted)
    else:
        text = generate_latest(REGISTRY)
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_Readings(readings))
    return text + generate_latest(extra)


def _pid_of(path: Path) -> int | None:
    """``counter_1234.db`` → 1234 (prometheus_client names its files ``<kind>_<pid>.db``)."""
    try:
        return int(path.stem.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_multiprocess_dir(path: Path) -> int:
    """Create ``path`` and remove the files of processes that are gone (a restart starts the
    web counts again; a running job worker's files stay).  Returns how many were removed."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    for file in path.glob("*.db"):
        pid = _pid_of(file)
        if pid is None or not _alive(pid):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
                removed += 1
    return removed
