"""Test set-up: a fresh database per run (SQLite file, or PostgreSQL with real roles).

The environment is set before ``app`` is imported.  With ``TEST_PG_ADMIN_URL`` (a superuser
DSN) the suite creates a database, a maintenance role (BYPASSRLS, owner) and an app role
(neither owner nor bypass), migrates and applies manifests as the maintenance role, and runs
every test as the app role — so row-level security is in force throughout.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

pytest_plugins = ["tests.reliability", "tests.logscan", "tests.brokers"]

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(tempfile.mkdtemp(prefix="bianmin-test-"))
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "")
PASSWORD = "test-pass-123"

os.environ["VAR_DIR"] = str(VAR)
os.environ["ARGON2_TIME_COST"] = "1"
os.environ["ARGON2_MEMORY_COST"] = "1024"
os.environ["DB_POOL_MAX_SIZE"] = "0"
os.environ["NOTIFY_MIN_BACKOFF_MS"] = "50"
os.environ["RUN_JOBS_IN_PROCESS"] = "0"  # tests that need the worker start it themselves
os.environ["BASE_URL"] = "http://testserver"
for name in (
    "DATABASE_URL",
    "MAINTENANCE_DATABASE_URL",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "BROKER_URL",
    "STORAGE_URL",
):
    os.environ.pop(name, None)


def _with(url: str, user: str, database: str) -> str:
    parts = urlparse(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunparse(parts._replace(netloc=netloc, path=f"/{database}"))


async def _prepare_postgres() -> tuple[str, str]:
    import asyncpg

    suffix = secrets.token_hex(3)
    database = f"bianmin_test_{os.getpid()}_{suffix}"
    maint, app_role = f"bm_maint_{suffix}", f"bm_app_{suffix}"
    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(f"CREATE ROLE {maint} LOGIN BYPASSRLS")
        await con.execute(f"CREATE ROLE {app_role} LOGIN")
        await con.execute(f"CREATE DATABASE {database} OWNER {maint}")
    finally:
        await con.close()
    con = await asyncpg.connect(
        _with(PG_ADMIN, urlparse(PG_ADMIN).username or "postgres", database)
    )
    try:
        await con.execute(f"ALTER SCHEMA public OWNER TO {maint}")
    finally:
        await con.close()
    os.environ["TEST_PG_CLEANUP"] = f"{database},{maint},{app_role}"
    return _with(PG_ADMIN, app_role, database), _with(PG_ADMIN, maint, database)


if PG_ADMIN:
    APP_URL, MAINT_URL = asyncio.run(_prepare_postgres())
    os.environ["DATABASE_URL"] = APP_URL
    os.environ["MAINTENANCE_DATABASE_URL"] = MAINT_URL


async def _cleanup_postgres() -> None:
    import asyncpg

    database, maint, app_role = os.environ["TEST_PG_CLEANUP"].split(",")
    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await con.execute(f"DROP ROLE IF EXISTS {maint}")
        await con.execute(f"DROP ROLE IF EXISTS {app_role}")
    finally:
        await con.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if PG_ADMIN and os.environ.get("TEST_PG_CLEANUP"):
        asyncio.run(_cleanup_postgres())


# --- the database, migrated and seeded once per run -------------------------------------

from app import db  # noqa: E402
from app.settings import settings  # noqa: E402


async def _setup() -> None:
    from app import maintenance
    from app.accounts import passwords
    from app.accounts import queries as accounts
    from app.tenancy.apply import apply_path

    db.use_url(settings.maintenance_database_url)
    await maintenance.migrate(app_role=maintenance.app_role_from_url(settings.database_url))
    await apply_path(ROOT / "tenants")
    await apply_path(ROOT / "tests" / "fixtures" / "manifests")
    hashed = passwords.hash_password(PASSWORD)
    for user in await _all_usernames():
        row = await accounts.user_by_username(user)
        assert row is not None
        await accounts.update_user(row["id"], password_hash=hashed)
    db.use_url(settings.database_url)


async def _all_usernames() -> list[str]:
    from app.accounts.tables import User

    return [r["username"] for r in await User.select(User.username)]


asyncio.run(_setup())


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app()


@pytest.fixture
def client(app) -> Iterator:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    """The session's CSRF token (opening the login page creates a session if needed)."""
    page = client.get("/password") if client.cookies.get("bm_session") else client.get("/login")
    if page.status_code != 200:
        page = client.get("/login")
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def login(client, username: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )
    assert response.status_code == 303, response.text[:500]
    return csrf_of(client)


@pytest.fixture
def as_user(client):  # type: ignore[no-untyped-def]
    """``as_user("r63-…")`` logs the test client in and returns the CSRF token."""

    def go(username: str) -> str:
        return login(client, username)

    return go
