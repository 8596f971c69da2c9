"""`make run`'s first start: demo links and centres that already offer their items."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VAR_DIR": str(tmp), "DATABASE_URL": "", "MAINTENANCE_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_demo_prints_links_and_adopts_items(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    assert _run(tmp_path, "tenants", "apply", "tenants/").returncode == 0
    result = _run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("/password/set/") >= 7
    counts = dict(re.findall(r"(r63|r68|d4|c-huacheng) (\d+)", result.stdout))
    assert set(counts) == {"d4", "r63", "r68", "c-huacheng"}
    assert all(int(n) > 5 for n in counts.values())
