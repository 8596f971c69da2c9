"""``/metrics``: who may read it, and that requests, jobs, queues and lights are counted."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from starlette.testclient import TestClient

from app import db, jobs
from app.cases.tables import Case
from app.ops import routes as ops_routes
from app.ops.prometheus import prepare_multiprocess_dir
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import register, run
from tests.conftest import ROOT
from tests.ops.conftest import JsonLog, scrape, value

QUEUE = "ops-test"


@jobs.actor(queue_name=QUEUE, max_retries=0)
def ops_succeeds(n: int) -> None:
    """Runs and returns."""


@jobs.actor(queue_name=QUEUE, max_retries=1, min_backoff=10, max_backoff=20)
def ops_fails(n: int) -> None:
    raise ValueError(f"failing on purpose ({n})")


# --- who may scrape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.20.30.40", False),
        ("192.168.1.5", False),
        ("2001:db8::1", False),
        ("testclient", False),  # not an address at all
        ("", False),
    ],
)
def test_only_configured_addresses_may_scrape(app: Any, address: str, allowed: bool) -> None:
    with TestClient(app, client=(address, 50000)) as c:
        metrics = c.get("/metrics")
        missing = c.get("/no/such/page")
    if allowed:
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "# TYPE http_requests_total counter" in metrics.text
    else:
        # Exactly the 404 page of a page that does not exist.
        assert metrics.status_code == missing.status_code == 404
        assert metrics.text == missing.text
        assert metrics.headers["content-type"] == missing.headers["content-type"]
        assert "http_requests" not in metrics.text


def test_the_allowed_networks_come_from_the_settings(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow = dataclasses.replace(settings, metrics_allow=("10.0.0.0/8", "2001:db8::/32"))
    monkeypatch.setattr(ops_routes, "settings", allow)
    for address, status in (("10.9.8.7", 200), ("2001:db8::5", 200), ("127.0.0.1", 404)):
        with TestClient(app, client=(address, 50000)) as c:
            assert c.get("/metrics").status_code == status, address


def test_a_bad_metrics_allow_stops_the_start() -> None:
    env = {**os.environ, "METRICS_ALLOW": "127.0.0.1/32,not-a-network"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "METRICS_ALLOW" in result.stderr


# --- requests -----------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template(scraper: TestClient) -> None:
    before = scrape(scraper)
    for _ in range(3):
        assert scraper.get("/login").status_code == 200
    scraper.get("/t/r63/cases/12345")  # anonymous: sent to log in
    scraper.get("/t/r63/cases/67890")
    scraper.get("/no/such/13912345678")
    after = scrape(scraper)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("http_requests_total", route="/login", method="GET", status="200") == 3
    case = {"route": "/t/{slug}/cases/{case_id}", "method": "GET"}
    assert delta("http_requests_total", status="303", **case) == 2
    assert delta("http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert delta("http_request_duration_seconds_count", route="/login", method="GET") == 3
    assert delta("http_request_duration_seconds_sum", route="/login", method="GET") > 0
    # Bucket +Inf holds every observation.
    assert delta("http_request_duration_seconds_bucket", le="+Inf", **case) == 2
    assert not any("12345" in str(labels) for _, labels in after)  # templates, not paths


# --- jobs ---------------------------------------------------------------------------------------


def test_jobs_run_failed_retried_and_dead_are_counted(
    scraper: TestClient, broker: dramatiq.Broker
) -> None:
    before = scrape(scraper)
    ops_succeeds.send(1)
    ops_succeeds.send(2)
    ops_fails.send(3)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join(QUEUE, fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
    after = scrape(scraper)

    def delta(name: str, actor: str) -> float:
        labels = {"actor": actor, "queue": QUEUE}
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bianmin_jobs_processed_total", "ops_succeeds") == 2
    assert delta("bianmin_jobs_failed_total", "ops_succeeds") == 0
    assert delta("bianmin_job_duration_seconds_count", "ops_succeeds") == 2
    # One attempt, one retry, then given up.
    assert delta("bianmin_jobs_processed_total", "ops_fails") == 2
    assert delta("bianmin_jobs_failed_total", "ops_fails") == 2
    assert delta("bianmin_jobs_retried_total", "ops_fails") == 1
    assert delta("bianmin_jobs_dead_total", "ops_fails") == 1


def test_queue_depth_is_read_at_scrape_time(scraper: TestClient, broker: dramatiq.Broker) -> None:
    empty = scrape(scraper)
    assert value(empty, "bianmin_queue_depth", queue=QUEUE) == 0
    assert (("bianmin_queue_depth", frozenset({("queue", "notify")}))) in empty
    for n in range(3):
        ops_succeeds.send(n)
    ops_succeeds.send_with_options(args=(9,), delay=600_000)  # scheduled: the delay queue
    waiting = scrape(scraper)
    assert value(waiting, "bianmin_queue_depth", queue=QUEUE) == 3
    assert value(waiting, "bianmin_queue_depth", queue=f"{QUEUE}.DQ") == 1
    assert value(waiting, "bianmin_scrape_ok", part="queues") == 1


# --- lights -------------------------------------------------------------------------------------


async def _set_light(case_id: int, light: str) -> None:
    scope = system_scope(await tenancy.tree(), reason="tests: set a light")
    async with db.write(scope):
        await Case.update({Case.light: light}).where(Case.id == case_id)


def test_open_cases_are_counted_by_light_per_centre(scraper: TestClient) -> None:
    before = scrape(scraper)
    cases = [run(register("xa-clerk", "xa", name=f"灯{n}")) for n in range(5)]
    for case, light in zip(cases, ("red", "red", "yellow", "green", ""), strict=True):
        run(_set_light(case["id"], light))
    after = scrape(scraper)

    def delta(light: str, tenant: str = "xa") -> float:
        return value(after, "bianmin_open_cases", tenant=tenant, light=light) - value(
            before, "bianmin_open_cases", tenant=tenant, light=light
        )

    assert (delta("red"), delta("yellow"), delta("green"), delta("none")) == (2, 1, 1, 1)
    assert delta("red", tenant="xb") == 0  # another centre is untouched
    assert value(after, "bianmin_scrape_ok", part="lights") == 1
    assert not any("灯" in str(labels) for _, labels in after)


def test_a_failed_reading_leaves_the_rest_of_the_scrape(
    scraper: TestClient, monkeypatch: pytest.MonkeyPatch, json_log: JsonLog
) -> None:
    from app.ops import readings

    async def broken() -> Any:
        raise ConnectionError("postgresql://user:secret@db/x unreachable")

    monkeypatch.setitem(readings.PARTS, "lights", broken)
    samples = scrape(scraper)
    assert value(samples, "bianmin_scrape_ok", part="lights") == 0
    assert value(samples, "bianmin_scrape_ok", part="queues") == 1
    assert not any(name == "bianmin_open_cases" for name, _ in samples)
    assert any(name == "bianmin_queue_depth" for name, _ in samples)
    warning = [r for r in json_log.records() if r["logger"] == "bianmin.ops"]
    assert warning and warning[0]["message"] == "metrics reading lights failed: ConnectionError"
    assert "secret" not in json_log.text


# --- several processes --------------------------------------------------------------------------

COUNT = (
    "import sys; from app.ops import prometheus as p;"
    "p.HTTP_REQUESTS.labels('/login', 'GET', '200').inc(int(sys.argv[1]));"
    "p.JOBS_PROCESSED.labels('a', 'q').inc()"
)
RENDER = "import sys; from app.ops import prometheus as p; sys.stdout.write(p.render().decode())"


def _python(code: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    _python(COUNT, directory, "2")  # the directory is made on first use
    _python(COUNT, directory, "5")
    text = _python(RENDER, directory)
    assert 'http_requests_total{method="GET",route="/login",status="200"} 7.0' in text
    assert 'bianmin_jobs_processed_total{actor="a",queue="q"} 2.0' in text
    # serve clears the files of processes that are gone (a running worker's stay).
    alive = directory / f"counter_{os.getpid()}.db"
    alive.write_bytes(b"")
    assert prepare_multiprocess_dir(directory) >= 2
    assert [p.name for p in directory.glob("*.db")] == [alive.name]
