"""PostgreSQL: ``pg_dump`` of an exported snapshot, and ``pg_restore`` into an empty database.

Both run as the maintenance role (BYPASSRLS: row-level security is forced on the owner too).
The password travels in ``PGPASSWORD``, never on a command line.  The dump holds the
``public`` schema; other schemas (dramatiq-postgres's queue) are left out and listed in the
manifest — the database is the source of truth and every job is recomputed by a sweep.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.backup.manifest import Snapshot, entries

_OTHER_SCHEMAS = (
    "SELECT nspname FROM pg_namespace"
    " WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public')"
    " AND nspname NOT LIKE 'pg\\_%' ORDER BY nspname"
)
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
_RELATIONS = (
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
)
_BYPASS = "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user"


class ToolFailed(RuntimeError):
    """``pg_dump`` or ``pg_restore`` exited with an error (its message attached)."""


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (for ``--dbname``) and the environment carrying it."""
    parts = urlsplit(url)
    env = dict(os.environ)
    query = parse_qsl(parts.query)
    password = parts.password or dict(query).get("password")
    if password:
        env["PGPASSWORD"] = password
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (parts.username or "") + ("@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    safe_query = urlencode([(k, v) for k, v in query if k != "password"])
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit((scheme, netloc, parts.path, safe_query, "")), env


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ToolFailed(
            f"{name} not found: install the PostgreSQL client of the server's major version"
        )
    return found


async def _run(args: list[str], env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        message = (err or out).decode("utf-8", "replace").strip()
        raise ToolFailed(f"{Path(args[0]).name} exited with {proc.returncode}: {message}")


async def _connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url)


async def _check_bypass(con: Any) -> None:
    if not await con.fetchval(_BYPASS):
        raise PermissionError(
            "run as the maintenance role (MAINTENANCE_DATABASE_URL): it needs BYPASSRLS"
        )


async def _counts(con: Any) -> dict[str, int]:
    counts = {}
    for r in await con.fetch(_TABLES):
        quoted = '"' + r["tablename"].replace('"', '""') + '"'
        sql = f"SELECT count(*) FROM public.{quoted}"  # noqa: S608
        counts[r["tablename"]] = int(await con.fetchval(sql))
    return counts


async def _read(con: Any) -> Snapshot:
    counts = await _counts(con)
    files: list = []
    if "stored_file" in counts:
        rows = await con.fetch(
            "SELECT storage_key, size, sha256, content_type FROM public.stored_file ORDER BY id"
        )
        files = [tuple(r) for r in rows]
    migrations: dict[str, str] = {}
    if "migration" in counts:
        for r in await con.fetch("SELECT app_name, max(name) AS name FROM migration GROUP BY 1"):
            migrations[str(r["app_name"])] = str(r["name"])
    return Snapshot(tables=counts, migrations=migrations, files=entries(files))


async def snapshot(url: str, target: Path) -> Snapshot:
    """Dump the database into ``target`` and read counts and file rows from the same snapshot.

    A repeatable-read transaction exports its snapshot; ``pg_dump --snapshot`` dumps exactly
    what that transaction sees, and the counts and ``stored_file`` rows are read in it.
    """
    dsn, env = libpq(url)
    con = await _connect(url)
    try:
        await _check_bypass(con)
        async with con.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await con.fetchval("SELECT pg_export_snapshot()")
            others = [r["nspname"] for r in await con.fetch(_OTHER_SCHEMAS)]
            args = [tool("pg_dump"), "--format=custom", "--no-password", f"--file={target}"]
            args += [f"--snapshot={snapshot_id}", f"--dbname={dsn}"]
            args += [f"--exclude-schema={name}" for name in others]
            dump = asyncio.ensure_future(_run(args, env))
            try:
                found = await _read(con)
            finally:
                await dump  # the exporting transaction stays open until pg_dump is done
            found.excluded_schemas = others
    finally:
        await con.close()
    with target.open("rb+") as fh:
        os.fsync(fh.fileno())
    return found


async def counts(url: str) -> dict[str, int]:
    con = await _connect(url)
    try:
        await _check_bypass(con)
        async with con.transaction(isolation="repeatable_read", readonly=True):
            return await _counts(con)
    finally:
        await con.close()


async def existing_relations(url: str) -> int:
    """Tables, views and sequences already in the target's ``public`` schema (0 = empty)."""
    con = await _connect(url)
    try:
        await _check_bypass(con)
        return int(await con.fetchval(_RELATIONS))
    finally:
        await con.close()


async def restore(dump: Path, url: str) -> None:
    """``pg_restore`` into the empty database in one transaction (all or nothing).

    ``--no-owner``: the maintenance role running it owns everything; ``--no-acl``: the
    grants are re-made for this installation's app role by ``maintenance.migrate`` after.
    """
    if await existing_relations(url):
        raise RuntimeError("the target database is not empty")
    dsn, env = libpq(url)
    args = [tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction"]
    args += ["--exit-on-error", "--no-password", f"--dbname={dsn}", str(dump)]
    await _run(args, env)
