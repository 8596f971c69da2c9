"""Browser tests: Debian chromium (driven by Playwright's sync API) against the real app.

Playwright's own browser download does not work here, so the tests launch the system
chromium (``CHROMIUM_PATH``, default ``/usr/bin/chromium``).  Without it they skip, unless
``REQUIRE_BROWSER=1``, which turns its absence into a failure.  The app runs in a
subprocess (``python -m app serve``) on the test database the top-level conftest prepared.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 390, "height": 844}
STARTUP_TIMEOUT = 30.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The real app (``python -m app serve``) on a free port; yields its base URL."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BASE_URL": base_url, "PYTHONUNBUFFERED": "1"}
    # The server's output goes next to the test database (a fresh temp dir per run).
    log_path = Path(os.environ.get("VAR_DIR") or tempfile.mkdtemp()) / f"live-server-{port}.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(f"{base_url}/healthz"):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = log_path.read_text(errors="replace")[-4000:]
                why = "exited" if proc.poll() is not None else f"not healthy in {STARTUP_TIMEOUT}s"
                pytest.fail(f"live server {why}; its output ({log_path}):\n{output}")
            time.sleep(0.2)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Any]:
    path = chromium_path()
    if not os.path.exists(path):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"REQUIRE_BROWSER=1 but chromium is missing at {path}: the browser is required "
                "(install it with `bash tests/browser/ensure-chromium.sh`)"
            )
        pytest.skip(
            f"chromium not found at {path} (run `bash tests/browser/ensure-chromium.sh`, "
            "or set CHROMIUM_PATH)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(_chromium: Any) -> Iterator[Any]:
    """A fresh page (own context: no cookies carried over) at 390x844, zh-CN."""
    context = _chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
