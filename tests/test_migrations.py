"""Migrations apply from an empty database (SQLite always, PostgreSQL in make test-pg)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.schema import TENANT_TABLES
from tests.conftest import PG_ADMIN, ROOT, _with

EXPECTED = {"tenant", "app_user", "web_session", "password_token", "login_failure", *TENANT_TABLES}


def _migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_migrations_from_empty_sqlite(tmp_path: Path) -> None:
    env = {"VAR_DIR": str(tmp_path), "DATABASE_URL": "", "MAINTENANCE_DATABASE_URL": ""}
    for _ in range(2):  # a second run is a no-op
        result = _migrate(env)
        assert result.returncode == 0, result.stderr
    con = sqlite3.connect(tmp_path / "bianmin.db")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()
    assert EXPECTED <= tables
    assert "uq_membership_tenant_id_user_id" in indexes


@pytest.mark.skipif(not PG_ADMIN, reason="PostgreSQL only (make test-pg)")
def test_migrations_from_empty_postgres() -> None:
    import asyncpg

    name = f"bianmin_empty_{secrets.token_hex(4)}"

    async def run(sql: str, database: str | None = None) -> list:
        url = _with(PG_ADMIN, "postgres", database) if database else PG_ADMIN
        con = await asyncpg.connect(url)
        try:
            return await con.fetch(sql)
        finally:
            await con.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        url = _with(PG_ADMIN, "postgres", name)
        for _ in range(2):
            result = _migrate({"DATABASE_URL": url, "MAINTENANCE_DATABASE_URL": url})
            assert result.returncode == 0, result.stderr
        rows = asyncio.run(run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", name))
        assert EXPECTED <= {r["tablename"] for r in rows}
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
