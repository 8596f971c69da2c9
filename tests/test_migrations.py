"""Migrations apply from an empty database (SQLite always, PostgreSQL in make test-pg), stay
additive (a release migrates while old web processes serve), and two releases at once on
PostgreSQL both succeed."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE
from urllib.parse import urlparse

import pytest

from app.maintenance import policies
from app.schema import TENANT_TABLES
from tests import reliability
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


# --- release safety: migrations stay additive ------------------------------------------
# A release migrates while the old web processes still serve (infra/RELEASE.md): a migration
# must not drop, rename or alter what the old code still reads.  Removals take two releases.
MIGRATIONS = ROOT / "migrations"
# MigrationManager calls that break the old code (or cannot be checked: add_raw runs any SQL).
DESTRUCTIVE = {
    "drop_table": "drops a table the old code may still read",
    "drop_column": "drops a column the old code still selects",
    "rename_table": "renames a table under the old code",
    "rename_column": "renames a column under the old code",
    "alter_column": "alters a column (type, null, default) under the old code",
    "drop_constraint": "drops a constraint",
    "change_table_schema": "moves a table to another schema",
    "add_raw": "runs raw SQL that cannot be checked here",
}
# Migration id → why its destructive operation is safe.  Each entry is reviewed by hand
# (RELEASE.md, "Removing or renaming"); stale entries fail test_allowlist_names_real_migrations.
ALLOWED: dict[str, str] = {}


def _param(values: dict[str, ast.expr], name: str) -> object:
    node = values.get(name)
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return "<expression>"  # e.g. a default of TimestamptzNow(): not None


def migration_problems(source: str) -> list[str]:
    """What in one migration file would break old web processes during a release."""
    tree = ast.parse(source)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "manager"
    ]

    def kwargs(call: ast.Call) -> dict[str, ast.expr]:
        return {k.arg: k.value for k in call.keywords if k.arg}

    new_tables = {
        ast.literal_eval(kwargs(c)["class_name"])
        for c in calls
        if c.func.attr == "add_table"  # type: ignore[attr-defined]
    }
    problems = []
    for call in calls:
        method = call.func.attr  # type: ignore[attr-defined]
        if method in DESTRUCTIVE:
            problems.append(f"{method}: {DESTRUCTIVE[method]}")
            continue
        if method != "add_column":
            continue
        args = kwargs(call)
        table = ast.literal_eval(args["table_class_name"])
        if table in new_tables:
            continue  # a column of a table created by the same migration
        column = f"{table}.{ast.literal_eval(args['column_name'])}"
        params = args.get("params")
        values = (
            {ast.literal_eval(k): v for k, v in zip(params.keys, params.values, strict=True) if k}
            if isinstance(params, ast.Dict)
            else {}
        )

        if _param(values, "null") is not True and _param(values, "default") is None:
            problems.append(f"add_column {column}: NOT NULL without a default")
        if _param(values, "index") is True or _param(values, "unique") is True:
            problems.append(
                f"add_column {column}: builds an index under a write lock "
                "(register it in app/schema.py: migrate builds those CONCURRENTLY)"
            )
    return problems


def migration_files() -> dict[str, Path]:
    """Migration id → file."""
    found = {}
    for path in sorted(MIGRATIONS.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        match = re.search(r'^ID = "([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        assert match, f"{path} has no ID"
        found[match.group(1)] = path
    return found


def test_migrations_are_additive() -> None:
    files = migration_files()
    assert len(files) >= 15
    failures = []
    for migration_id, path in files.items():
        problems = migration_problems(path.read_text(encoding="utf-8"))
        if problems and migration_id not in ALLOWED:
            failures += [f"{path.relative_to(ROOT)}: {p}" for p in problems]
    assert not failures, "not safe while old web processes serve:\n" + "\n".join(failures)


def test_scanner_catches_what_breaks_old_processes() -> None:
    source = """
async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description="")
    manager.add_table(class_name="Fresh", tablename="fresh")
    manager.add_column(table_class_name="Fresh", tablename="fresh", column_name="a",
        params={"null": False, "default": None})
    manager.add_column(table_class_name="Case", tablename="service_case", column_name="ok",
        params={"null": False, "default": TimestamptzNow()})
    manager.add_column(table_class_name="Case", tablename="service_case", column_name="b",
        params={"null": False, "default": None})
    manager.add_column(table_class_name="Case", tablename="service_case", column_name="c",
        params={"null": True, "default": None, "index": True})
    manager.drop_column(table_class_name="Case", tablename="service_case", column_name="x")
    manager.rename_column(table_class_name="Case", tablename="service_case",
        old_column_name="y", new_column_name="z")
    manager.alter_column(table_class_name="Case", tablename="service_case", column_name="w")
    manager.add_raw(lambda: None)
    return manager
"""
    problems = migration_problems(source)
    assert [p.split(":")[0] for p in problems] == [
        "add_column Case.b",
        "add_column Case.c",
        "drop_column",
        "rename_column",
        "alter_column",
        "add_raw",
    ]


def test_allowlist_names_real_migrations() -> None:
    files = migration_files()
    for migration_id, reason in ALLOWED.items():
        assert migration_id in files, f"stale allowlist entry {migration_id}"
        assert migration_problems(files[migration_id].read_text(encoding="utf-8")), migration_id
        assert len(reason) > 20, f"give a real reason for {migration_id}"


# --- release safety on PostgreSQL: two releases at once, policies never missing ---------


async def _admin(sql: str, database: str | None = None) -> list:
    import asyncpg

    url = (
        _with(PG_ADMIN, urlparse(PG_ADMIN).username or "postgres", database)
        if database
        else PG_ADMIN
    )
    con = await asyncpg.connect(url)
    try:
        return await con.fetch(sql)
    finally:
        await con.close()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_ADMIN, reason="PostgreSQL only (TEST_PG_ADMIN_URL)")
def test_two_releases_at_once_postgres() -> None:
    """Two `migrate` processes on one empty database (two release hooks fired at once)."""
    suffix = secrets.token_hex(3)
    name, maint, app_role = f"bm_twice_{suffix}", f"bm_twice_m_{suffix}", f"bm_twice_a_{suffix}"
    asyncio.run(_admin(f"CREATE ROLE {maint} LOGIN BYPASSRLS"))
    asyncio.run(_admin(f"CREATE ROLE {app_role} LOGIN"))
    asyncio.run(_admin(f"CREATE DATABASE {name} OWNER {maint}"))
    try:
        asyncio.run(_admin(f"ALTER SCHEMA public OWNER TO {maint}", name))
        env = {
            **os.environ,
            "DATABASE_URL": _with(PG_ADMIN, app_role, name),
            "MAINTENANCE_DATABASE_URL": _with(PG_ADMIN, maint, name),
        }
        command = [sys.executable, "-m", "app", "migrate"]
        procs = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE, text=True)
            for _ in range(2)
        ]
        reliability.record("faults")
        for proc in procs:
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err[-2000:]
        rows = asyncio.run(_admin("SELECT name FROM migration", name))
        names = [r["name"] for r in rows]
        duplicates = len(names) - len(set(names))
        reliability.record("records_lost", duplicates)
        assert duplicates == 0
        assert len(names) == len(migration_files())
        tables = asyncio.run(
            _admin("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", name)
        )
        assert EXPECTED <= {r["tablename"] for r in tables}
        invalid = asyncio.run(_admin("SELECT 1 FROM pg_index WHERE NOT indisvalid", name))
        assert not invalid
        forced = asyncio.run(
            _admin(
                "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity", name
            )
        )
        assert {r["relname"] for r in forced} == set(TENANT_TABLES)
        expected_policies = sum(len(policies(t, s.kind)) for t, s in TENANT_TABLES.items())
        count = asyncio.run(_admin("SELECT count(*) AS n FROM pg_policy", name))[0]["n"]
        assert count == expected_policies
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        asyncio.run(_admin(f"DROP ROLE IF EXISTS {maint}"))
        asyncio.run(_admin(f"DROP ROLE IF EXISTS {app_role}"))


@pytest.mark.postgres
@pytest.mark.skipif(not PG_ADMIN, reason="PostgreSQL only (TEST_PG_ADMIN_URL)")
def test_rows_stay_visible_while_release_rewrites_policies() -> None:
    """An old web process keeps reading while `migrate` rewrites every table's policies."""
    import asyncpg

    maint_url = os.environ["MAINTENANCE_DATABASE_URL"]
    app_url = os.environ["DATABASE_URL"]
    every = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in TENANT_TABLES)

    async def run() -> tuple[int, int]:
        maint = await asyncpg.connect(maint_url)
        try:  # forget the definition markers: the next migrate rewrites every table
            for row in await maint.fetch(
                "SELECT p.polname, c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
            ):
                await maint.execute(f'COMMENT ON POLICY "{row[0]}" ON {row[1]} IS NULL')
            ids = ",".join(str(r[0]) for r in await maint.fetch("SELECT id FROM tenant"))
        finally:
            await maint.close()
        reader = await asyncpg.connect(app_url)

        async def counts(query: str) -> tuple:
            async with reader.transaction():
                await reader.execute(
                    "SELECT set_config('app.read_ids', $1, true),"
                    " set_config('app.shared_ids', $1, true)",
                    ids,
                )
                return tuple(await reader.fetchrow(query))

        try:  # every tenant-owned table that has rows the reader may see
            seen = [t for t, n in zip(TENANT_TABLES, await counts(every), strict=True) if n]
            assert len(seen) >= 10, seen
            query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in seen)
            expected = await counts(query)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "app",
                "migrate",
                cwd=ROOT,
                env={**os.environ},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            polls = wrong = 0
            while proc.returncode is None:
                polls += 1
                wrong += (await counts(query)) != expected
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 0.001)
            _, err = await proc.communicate()
            assert proc.returncode == 0, err.decode()[-2000:]
        finally:
            await reader.close()
        return polls, wrong

    polls, wrong = asyncio.run(run())
    reliability.record("faults")
    reliability.record("records_lost", wrong)
    assert polls >= 20, f"only {polls} reads during the release: the check proved nothing"
    assert wrong == 0, f"{wrong} of {polls} reads saw rows vanish while policies were rewritten"
    markers = asyncio.run(
        _admin(
            "SELECT count(*) AS n FROM pg_description WHERE description LIKE 'bianmin:%'",
            urlparse(os.environ["DATABASE_URL"]).path.lstrip("/"),
        )
    )[0]["n"]
    assert markers == sum(len(policies(t, s.kind)) for t, s in TENANT_TABLES.items())
