"""Driving a page with wrk (Debian's ``wrk``): a warm-up, then the measured run; req/s and
the latency percentiles parsed from ``--latency``.  A page is checked to answer 200 (not a
redirect to the login) right before and right after each run, and wrk's own count of
non-2xx/3xx answers and socket errors is kept."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from tests.bench.load.servers import status_of

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    rps: float
    p50: float  # ms
    p99: float  # ms
    bad: int  # non-2xx/3xx answers, socket errors, and a failed check (as 1)
    load: float  # 1-minute load average when the run ended

    @property
    def ok(self) -> bool:
        return self.bad == 0


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    return found


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS[unit]


def parse(text: str, seconds: float, load: float, check_failed: bool) -> Result:
    found = {int(p): _ms(v, u) for p, v, u in PERCENTILE.findall(text)}
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    bad = int(non2xx.group(1)) if non2xx else 0
    bad += sum(int(g) for g in socket.groups()) if socket else 0
    if total is None or rps is None or 50 not in found or 99 not in found:
        raise RuntimeError(f"could not read wrk's output:\n{text}")
    return Result(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50=found[50],
        p99=found[99],
        bad=bad + (1 if check_failed else 0),
        load=load,
    )


def wrk(url: str, cookie: str, connections: int, seconds: float, threads: int) -> str:
    args = [
        wrk_path(),
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return done.stdout


def drive(
    url: str, cookie: str, connections: int, seconds: float, warmup: float, threads: int
) -> Result:
    before = status_of(url, cookie)
    if warmup > 0:
        wrk(url, cookie, connections, warmup, threads)
    text = wrk(url, cookie, connections, seconds, threads)
    after = status_of(url, cookie)
    return parse(text, seconds, os.getloadavg()[0], before != 200 or after != 200)
