"""Starting and stopping the web servers under test: uvicorn or granian, N worker processes,
the app (``python -m app serve`` on uvicorn, ``app.main:create_app`` on granian) or the bare
page (``tests.bench.load.bare:create_app``), each on a free port, in its own process group
(stopped by that group's id, never by name).  The servers' access logs are off (the app logs
its own requests, as in production)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
FACTORIES = {"app": "app.main:create_app", "bare": "tests.bench.load.bare:create_app"}
SERVERS = ("uvicorn", "granian")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(server: str, what: str, port: int, workers: int, log_config: Path | None) -> list[str]:
    """The app is the Procfile's ``web`` on either server (``python -m app serve --server …``:
    JSON logs, the app's access log, Prometheus multiprocess mode with several workers).  The
    bare page logs nothing."""
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if what == "app":  # the Procfile's web, on the server under test
        return [sys.executable, "-m", "app", "serve", *where, "--server", server]
    if server == "uvicorn":
        quiet = ["--log-level", "warning", "--no-access-log"]
        return [str(BIN / "uvicorn"), "--factory", FACTORIES[what], *where, *quiet]
    if server == "granian":
        return [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--factory",
            *where,
            "--log-level",
            "warning",
            "--no-access-log",
            FACTORIES[what],
        ]
    raise ValueError(server)


def app_settings(var_dir: Path, workers: int, log_dir: Path) -> tuple[dict[str, str], Path | None]:
    """What ``python -m app serve`` sets up before its workers start, for granian: the
    Prometheus multiprocess directory (several workers) and the app's logging config."""
    env = {}
    if workers > 1:
        metrics = var_dir / "prometheus-granian"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    try:
        from app.ops import logs
    except ImportError:  # a tree without app.ops: granian's own logging
        return env, None
    path = log_dir / "logging.json"
    path.write_text(json.dumps(logs.dict_config()))
    return env, path


@dataclass(frozen=True)
class Running:
    name: str  # e.g. "app on uvicorn ×2"
    base: str  # http://127.0.0.1:port
    process: subprocess.Popen[bytes]


def status_of(url: str, cookie: str, timeout: float = 30.0) -> int:
    """One GET without following redirects: its status (0 when nothing answers)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(url)
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 (checked)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0


@contextlib.contextmanager
def serving(
    server: str,
    what: str,
    workers: int,
    env: dict[str, str],
    probe: tuple[str, str],
    log_dir: Path,
    root: Path = ROOT,
    log_config: Path | None = None,
) -> Iterator[Running]:
    """A server with ``workers`` processes, ready once ``probe`` (path, cookie) answers 200;
    ``root`` is where ``app`` is imported from (a patched copy of the tree, say)."""
    port = free_port()
    log = log_dir / f"{what}-{server}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(server, what, port, workers, log_config),
            cwd=root,
            env={
                **os.environ,
                **env,
                "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(root), str(ROOT)])),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped by that id below
        )
    running = Running(f"{what} on {server} ×{workers}", f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            status = status_of(running.base + probe[0], probe[1], timeout=10)
            if status == 200:
                break
            time.sleep(0.5)
        if status != 200:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{running.name} did not answer 200 (got {status}):\n{tail}")
        yield running
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
