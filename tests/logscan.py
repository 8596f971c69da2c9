"""A pytest plugin: the suite's log output is scanned for personal data and secrets.

Every log record emitted in a test process (root logger, INFO and up) is written, formatted
by the app's own JSON formatter and request-context filter, to one file per process.  At the
end each process scans its file for

* the ID numbers (18 characters with a birth date) and mobile numbers (11 digits) that appear
  in the seed data — ``tests/fixtures``, ``tenants/`` (``tenants/demo`` too) and the test
  code — collected with a regular expression over those files; and any ID number whose
  check character is right, seeded or not;
* the test password and any password given to the suite;
* a session cookie value (``bm_session=…``).

A hit prints the offending lines, with the value masked, under the test results and fails the
session.  Under xdist each worker scans its own file and hands the result to the controller
(``workeroutput``), like ``tests/reliability.py``.  The test client's own request lines
(``httpx``/``httpx2``: the URL a *test* asked for) are not app output and are skipped.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "tests", ROOT / "tenants")  # tests/fixtures and tenants/demo included
SUFFIXES = {".py", ".toml", ".csv", ".json", ".txt", ".md"}
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
PASSWORD_LITERAL = re.compile(r"""PASSWORD\s*=\s*["']([^"']{6,})["']""")
SECRET_PATTERNS = (re.compile(r"bm_session=[A-Za-z0-9_-]{16,}"),)
SKIP_LOGGERS = ("httpx", "httpx2", "httpcore")
MAX_EXAMPLES = 20


def seeded_values(sources: Iterable[Path] = SOURCES) -> set[str]:
    """ID numbers, mobile numbers and passwords written in the seed data and test code."""
    values = {"test-pass-123"}
    for name in ("ADMIN_PASSWORD", "TEST_ADMIN_PASSWORD"):
        if os.environ.get(name):
            values.add(os.environ[name])
    for base in sources:
        for path in base.rglob("*"):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            for found in ID_NUMBER.finditer(text):
                values |= {found.group(0).upper(), found.group(0).lower()}
            values |= {m.group(0) for m in MOBILE.finditer(text)}
            values |= {m.group(1) for m in PASSWORD_LITERAL.finditer(text)}
    return values


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def is_resident_id(value: str) -> bool:
    """An ID number's check character (GB 11643) is right: any such number in a log is a hit,
    seeded or not (a test may build its own)."""
    total = sum(int(c) * w for c, w in zip(value[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def mask(value: str) -> str:
    keep = 2 if len(value) > 8 else 1
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


@dataclass
class Result:
    lines: int = 0
    hits: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, other: dict[str, Any]) -> None:
        self.lines += int(other.get("lines", 0))
        self.hits += int(other.get("hits", 0))
        room = MAX_EXAMPLES - len(self.examples)
        self.examples.extend(list(other.get("examples", []))[:room])


def scan_lines(lines: Iterable[str], values: set[str]) -> Result:
    """Count the lines holding a seeded value or a secret; keep a few, masked."""
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    seeded = rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])"
    finder = re.compile("|".join([*(p.pattern for p in SECRET_PATTERNS), seeded]))
    result = Result()
    for line in lines:
        result.lines += 1
        ids = [m.group(0) for m in ID_NUMBER.finditer(line) if is_resident_id(m.group(0))]
        if not ids and not finder.search(line):
            continue
        result.hits += 1
        if len(result.examples) < MAX_EXAMPLES:
            masked = finder.sub(lambda m: mask(m.group(0)), line.rstrip("\n"))
            for value in ids:
                masked = masked.replace(value, mask(value))
            result.examples.append(masked[:400])
    return result


class _Handler(logging.FileHandler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in SKIP_LOGGERS:
            return
        super().emit(record)


_handler: _Handler | None = None
_previous_level: int | None = None
_total = Result()


def pytest_configure(config: pytest.Config) -> None:
    global _handler, _previous_level
    from app.ops.logs import ContextFilter, JsonFormatter

    fd, name = tempfile.mkstemp(prefix=f"bianmin-logscan-{os.getpid()}-", suffix=".jsonl")
    os.close(fd)
    _handler = _Handler(name, encoding="utf-8", delay=True)
    _handler.setLevel(logging.INFO)
    _handler.setFormatter(JsonFormatter())
    _handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(_handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        _previous_level = root.level
        root.setLevel(logging.INFO)


def _scan_own() -> dict[str, Any]:
    if _handler is None:
        return {}
    root = logging.getLogger()
    root.removeHandler(_handler)
    _handler.close()
    if _previous_level is not None:
        root.setLevel(_previous_level)
    path = Path(_handler.baseFilename)
    if not path.exists():
        return {"lines": 0, "hits": 0, "examples": []}
    with path.open(encoding="utf-8", errors="replace") as fh:
        result = scan_lines(fh, seeded_values())
    if result.hits:
        result.examples.append(f"(the whole log: {path})")
    else:
        path.unlink(missing_ok=True)
    return {"lines": result.lines, "hits": result.hits, "examples": result.examples}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    own = _scan_own()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["logscan"] = own
        return
    _total.add(own)
    if _total.hits and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: add a finished worker's scan."""
    _total.add(getattr(node, "workeroutput", {}).get("logscan", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _total.lines:
        return
    if not _total.hits:
        terminalreporter.write_line(
            f"log scan: {_total.lines} log lines, no personal data or secrets found"
        )
        return
    terminalreporter.section("log scan: personal data or secrets in the log output", red=True)
    terminalreporter.write_line(
        f"{_total.hits} of {_total.lines} log lines hold a seeded ID number, phone number, "
        "password or session token:",
        red=True,
    )
    for line in _total.examples:
        terminalreporter.write_line(f"  {line}")
