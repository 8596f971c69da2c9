"""``python -m app serve --workers 2`` for real, on granian and on uvicorn: JSON logs from every
process (the servers' own access logs off), ``/metrics`` summed over the workers, and the
client address taken after the proxy-header handling."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.settings import settings
from tests.conftest import ROOT

PHONE = "13912345678"
SERVE = [sys.executable, "-m", "app", "serve", "--workers", "2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - local test server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture(params=["granian", "uvicorn"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    port = _free_port()
    var = tmp_path / "var"
    env = {
        **os.environ,
        "VAR_DIR": str(var),
        "DATABASE_URL": settings.database_url,
        "MAINTENANCE_DATABASE_URL": settings.maintenance_database_url,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--server", request.param],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(log.read_text()[-3000:])
            time.sleep(0.3)
        yield base, var, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _requests_total(text: str, route: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "http_requests_total" and labels.get("route") == route:
                return float(sample.value)
    return 0.0


def test_two_workers_log_json_count_together_and_guard_metrics(
    server: tuple[str, Path, Path],
) -> None:
    base, var, log = server
    for _ in range(8):
        assert _get(f"{base}/healthz")[0] == 200  # a new connection each: either worker
    for _ in range(4):  # whichever worker answers the scrape sees every worker's count
        status, text = _get(f"{base}/metrics")
        assert status == 200
        assert _requests_total(text, "/healthz") >= 9
    # Through a trusted proxy (127.0.0.1) the client is the forwarded address: refused.
    assert _get(f"{base}/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 404
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{base}/t/r63/cases?q={PHONE}", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 303
    assert list((var / "prometheus").glob("*.db")), "multiprocess files under VAR_DIR"

    time.sleep(0.5)  # let the workers flush their last lines
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    access = [r for r in records if r["logger"] == "bianmin.access"]
    assert {r["route"] for r in access} >= {"/healthz", "/metrics", "/t/{slug}/cases"}
    assert {r["status"] for r in access if r["route"] == "/metrics"} == {200, 404}
    server_loggers = ("uvicorn", "_granian", "granian")
    assert any(r["logger"].startswith(server_loggers) for r in records)  # the server's, as JSON
    assert all(isinstance(r["pid"], int) for r in access)  # which worker answered
    assert PHONE not in log.read_text() and "?q=" not in log.read_text()
    assert not any(r["logger"] == "uvicorn.access" for r in records)
