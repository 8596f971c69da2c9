"""The first platform admin: no default password; env credentials or a printed link."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = (
    "import asyncio\n"
    "from app.accounts.bootstrap import ensure_admin\n"
    "print('\\n'.join(asyncio.run(ensure_admin())))\n"
)


def _run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "VAR_DIR": str(tmp), "DATABASE_URL": "", "MAINTENANCE_DATABASE_URL": ""}
    base.pop("ADMIN_USERNAME", None)
    base.pop("ADMIN_PASSWORD", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def _fresh(tmp: Path) -> None:
    assert _run(tmp, "-m", "app", "migrate").returncode == 0
    assert _run(tmp, "-m", "app", "tenants", "apply", "tenants/").returncode == 0


def test_without_env_a_one_time_link_is_printed(tmp_path: Path) -> None:
    _fresh(tmp_path)
    out = _run(tmp_path, "-c", SCRIPT).stdout
    assert "platform admin 'admin'" in out and "/password/set/" in out


def test_env_credentials_create_the_admin(tmp_path: Path) -> None:
    _fresh(tmp_path)
    result = _run(tmp_path, "-c", SCRIPT, ADMIN_USERNAME="ops", ADMIN_PASSWORD="ops-secret-77")
    assert "created from ADMIN_USERNAME" in result.stdout, result.stderr
    again = _run(tmp_path, "-c", SCRIPT, ADMIN_USERNAME="ops", ADMIN_PASSWORD="ops-secret-77")
    assert again.stdout.strip() == ""  # an admin with a password exists: nothing to do
    assert "ops-secret-77" not in result.stdout + result.stderr


def test_weak_env_password_is_refused(tmp_path: Path) -> None:
    _fresh(tmp_path)
    result = _run(tmp_path, "-c", SCRIPT, ADMIN_USERNAME="ops", ADMIN_PASSWORD="123")
    assert "ADMIN_PASSWORD rejected" in result.stdout
