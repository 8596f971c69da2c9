"""The demo circulars and documents (tenants/demo/circulars.toml, documents.toml), loaded by
the real command line into a fresh SQLite file (never the suite's database); a second load
changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VAR_DIR": str(tmp),
        "DATABASE_URL": "",
        "MAINTENANCE_DATABASE_URL": "",
        "DEMO_CASES_SCALE": "0.05",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("demo-circulars")
    assert _run(tmp, "migrate").returncode == 0
    assert _run(tmp, "tenants", "apply", "tenants/").returncode == 0
    result = _run(tmp, "demo")
    assert result.returncode == 0, result.stderr
    return tmp, result.stdout


def test_demo_documents(loaded: tuple[Path, str]) -> None:
    _tmp, out = loaded
    assert "Demo documents of r63: 6 uploaded; departments without a valid letter: " in out
    line = next(x for x in out.splitlines() if x.startswith("Demo documents of r63"))
    assert "农业局" in line and "人力资源和社会保障局" in line and "民政局" not in line
    line = next(x for x in out.splitlines() if x.startswith("Demo documents of r68"))
    assert line.endswith("农业局.")


def test_demo_circulars(loaded: tuple[Path, str]) -> None:
    tmp, out = loaded
    lines = [x for x in out.splitlines() if x.startswith("Demo circular ")]
    assert len(lines) == 2
    assert lines[0].endswith("read by r63.") and "4月" in lines[0]
    assert lines[1].endswith("read by r63, r68.") and "春节" in lines[1]
    again = _run(tmp, "demo")
    assert again.returncode == 0, again.stderr
    assert "already issued; skipped" in again.stdout
    assert "Demo documents of r63 are already loaded; skipped." in again.stdout
