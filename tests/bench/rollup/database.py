"""The throwaway database of a benchmark run: a PostgreSQL database with its own
maintenance role (BYPASSRLS, owner) and app role (neither), created with a superuser DSN
and dropped at the end — or a SQLite file in a temporary VAR_DIR.  Mirrors
tests/conftest.py so the app runs exactly as in production (row-level security on)."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Target:
    engine: str  # pg | sqlite
    var_dir: Path
    app_url: str  # what the web processes use (the app role on PostgreSQL)
    maint_url: str  # migrations and manifests (the maintenance role)
    admin_url: str = ""  # a superuser on the bench database (bulk loading only)
    database: str = ""
    roles: tuple[str, ...] = ()
    server_admin: str = ""  # the superuser DSN given (to drop the database)

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "bianmin.db"


def with_user(url: str, user: str, database: str) -> str:
    parts = urlparse(url)
    host = parts.hostname or "127.0.0.1"
    password = f":{parts.password}" if parts.password and user == parts.username else ""
    netloc = f"{user}{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunparse(parts._replace(netloc=netloc, path=f"/{database}"))


def create_postgres(admin: str) -> Target:
    pid = os.getpid()
    database = f"bianmin_bench_{pid}"
    maint, app_role = f"bm_bench_maint_{pid}", f"bm_bench_app_{pid}"
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-bench-"))
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for role in (maint, app_role):
            con.execute(f"DROP ROLE IF EXISTS {role}")
        con.execute(f"CREATE ROLE {maint} LOGIN BYPASSRLS")
        con.execute(f"CREATE ROLE {app_role} LOGIN")
        con.execute(f"CREATE DATABASE {database} OWNER {maint}")
    superuser = urlparse(admin).username or "postgres"
    admin_db = with_user(admin, superuser, database)
    with psycopg.connect(admin_db, autocommit=True) as con:
        con.execute(f"ALTER SCHEMA public OWNER TO {maint}")
    return Target(
        engine="pg",
        var_dir=var_dir,
        app_url=with_user(admin, app_role, database),
        maint_url=with_user(admin, maint, database),
        admin_url=admin_db,
        database=database,
        roles=(maint, app_role),
        server_admin=admin,
    )


def attach_postgres(admin: str, database: str) -> Target:
    """A database an earlier run kept (``--keep``): its roles follow from its name."""
    suffix = database.removeprefix("bianmin_bench_")
    maint, app_role = f"bm_bench_maint_{suffix}", f"bm_bench_app_{suffix}"
    superuser = urlparse(admin).username or "postgres"
    return Target(
        engine="pg",
        var_dir=Path(tempfile.mkdtemp(prefix="bianmin-bench-")),
        app_url=with_user(admin, app_role, database),
        maint_url=with_user(admin, maint, database),
        admin_url=with_user(admin, superuser, database),
        database=database,
        roles=(maint, app_role),
        server_admin=admin,
    )


def create_sqlite() -> Target:
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-bench-"))
    url = f"sqlite:///{var_dir / 'bianmin.db'}"
    return Target(engine="sqlite", var_dir=var_dir, app_url=url, maint_url=url)


def environment(target: Target) -> None:
    """The settings the app reads at import (set before ``app`` is imported)."""
    os.environ["VAR_DIR"] = str(target.var_dir)
    os.environ["DATABASE_URL"] = target.app_url
    os.environ["MAINTENANCE_DATABASE_URL"] = target.maint_url
    os.environ["RUN_JOBS_IN_PROCESS"] = "0"
    os.environ.setdefault("DB_POOL_MIN_SIZE", "2")
    os.environ.setdefault("DB_POOL_MAX_SIZE", "10")
    for name in ("BROKER_URL", "STORAGE_URL", "ADMIN_USERNAME", "ADMIN_PASSWORD"):
        os.environ.pop(name, None)


def drop(target: Target) -> None:
    """Remove everything the run created (also after a failure)."""
    if target.engine == "pg":
        with psycopg.connect(target.server_admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {target.database} WITH (FORCE)")
            for role in target.roles:
                con.execute(f"DROP ROLE IF EXISTS {role}")
    shutil.rmtree(target.var_dir, ignore_errors=True)
