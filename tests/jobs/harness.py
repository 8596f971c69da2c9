"""For the broker tests: worker and scheduler processes (each in its own session, so a SIGKILL
takes the whole process group; output to a file), moving the messages the app sent to the
in-process broker onto a real one, and a group-robot stand-in counting POSTs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dramatiq

from app import db, jobs
from app.cases.queries import stats as stat_queries
from app.cases.tables import CaseMonthStat, StatDirty
from app.jobs import make_broker
from app.metrics import COUNTS
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.conftest import ROOT


class Process:
    """``python -m app <args>`` with ``env`` added to this process's environment."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.log = Path(tempfile.mkstemp(prefix="bianmin-proc-", suffix=".log")[1])
        self.text = ""
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self, tail: int = 4000) -> str:
        """The last ``tail`` characters of its output (all of it once stopped)."""
        if not self.log.exists():
            return self.text[-tail:]
        return self.log.read_text(errors="replace")[-tail:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> str:
        """SIGTERM (a graceful stop), SIGKILL if it does not stop within 20 s; returns the
        whole output (the log file is removed)."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log.exists():
            self.text = self.log.read_text(errors="replace")
            self.log.unlink()
        return self.text


def worker(url: str, **env: str) -> Process:
    return Process(["worker", "--threads", "4"], {"BROKER_URL": url, **env})


def scheduler(url: str, **env: str) -> Process:
    return Process(["scheduler"], {"BROKER_URL": url, **env})


def wait_for(what: str, check: Callable[[], Any], timeout: float, *procs: Process) -> Any:
    """Poll ``check`` until it returns something true; fail with the processes' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    logs = "\n".join(f"--- {' '.join(p.proc.args[3:])}:\n{p.output()}" for p in procs)  # type: ignore[index]
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n{logs}")


def forward(url: str, queues: list[str], extra: list[dramatiq.Message] | None = None) -> int:
    """Move what the app's own code sent to the in-process (stub) broker onto the real broker
    at ``url``, plus ``extra``; returns how many messages were moved."""
    stub = jobs.broker()
    real = make_broker(url)
    moved = 0
    try:
        messages = []
        for name in queues:
            queue = stub.queues[name]
            while not queue.empty():
                messages.append(dramatiq.Message.decode(queue.get_nowait()))
        for message in [*messages, *(extra or [])]:
            real.declare_queue(message.queue_name)
            real.enqueue(message)
            moved += 1
    finally:
        real.close()
    return moved


class Receiver:
    """A group-robot stand-in: keeps the text of every POST it receives, answers ok."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                receiver.texts.append(body["text"]["content"])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def figures_match() -> tuple[int, list[str]]:
    """(centre-months compared, differences) between the stored figures and a recount."""
    scope = system_scope(await tenancy.tree(), reason="tests: figures")
    async with db.read(scope):
        stored = await CaseMonthStat.select()
        dirty = await StatDirty.count()
    wrong = [f"{dirty} months still marked"] if dirty else []
    keys = {(r["tenant_id"], r["month"]) for r in stored}
    if len(keys) != len(stored):
        wrong.append("a centre-month stored twice")
    for tenant_id, month in await stat_queries.months_with_cases(scope):
        row = next((r for r in stored if (r["tenant_id"], r["month"]) == (tenant_id, month)), None)
        async with db.read(scope):  # under the scope: row-level security on PostgreSQL
            counts = await stat_queries.count_month(scope, tenant_id, month)
        have = {k: row[k] for k in COUNTS} if row else {}
        if have != counts:
            diff = {k: (have.get(k), v) for k, v in counts.items() if have.get(k) != v}
            wrong.append(f"{tenant_id}/{month} (stored, recount): {diff}")
    return len(keys), wrong
