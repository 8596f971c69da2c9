"""Schema work that runs as the maintenance role: migrations, unique keys, row-level security.

``python -m app migrate`` (and the Procfile's ``release``) calls :func:`migrate`.  Everything
here is idempotent and additive, so it can run while old web processes still serve
(infra/RELEASE.md):

- On PostgreSQL one ``migrate`` runs at a time per database: a session advisory lock, taken
  by polling on a connection of its own (a second ``release`` waits, then finds nothing to
  do).  SQLite needs no lock: the embedded mode is one process that migrates before serving.
- Indexes are built ``CONCURRENTLY`` on PostgreSQL (writes go on while a new index builds;
  an invalid index left by a failed build is dropped and rebuilt).
- A table's policies are rewritten only when their definition changed, in one short
  transaction per table, so old web processes never see the table without its policies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
from collections.abc import AsyncIterator
from urllib.parse import urlparse

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from app import db
from app.schema import EXPRESSION_INDEXES, INDEXES, TENANT_TABLES, UNIQUE_KEYS

log = logging.getLogger("bianmin.migrate")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
# pg_try_advisory_lock key of `migrate` ("bianmin" in ASCII): one per database.
LOCK_KEY = int.from_bytes(b"bianmin", "big")
LOCK_POLL_SECONDS = 1.0
# Rewriting a table's policies takes its ACCESS EXCLUSIVE lock for a moment: give up waiting
# after this long (a long query holds the table), let the queue behind us drain, retry.
POLICY_LOCK_TIMEOUT = "3s"
POLICY_ATTEMPTS = 5

# One SQL expression per id set; a missing setting is '' → NULL → no rows (fails closed).
# Each is a scalar sub-select (an InitPlan: parsed once per statement, not once per row it
# filters — tests/bench/rollup measured the grid over 36 months at 134 → 44 ms); the outer
# cast keeps ``ANY(…)`` reading an array rather than a sub-query.
_SETS = {
    name: (
        f"(SELECT string_to_array(NULLIF(current_setting('app.{name}', true), ''), ',')"
        "::int[])::int[]"
    )
    for name in ("read_ids", "write_ids", "shared_ids", "supervise_ids")
}
_USER = "(SELECT NULLIF(current_setting('app.user_id', true), '')::int)"
_SYSTEM = "(SELECT current_setting('app.system', true) = 'on')"


def _in(name: str) -> str:
    return f"tenant_id = ANY({_SETS[name]})"


def policies(table: str, kind: str) -> dict[str, tuple[str, str, str]]:
    """Policy name → (command, USING, WITH CHECK) for one tenant-owned table."""
    write = _in("write_ids")
    if kind == "operational":
        return {
            "scope_read": ("SELECT", _in("read_ids"), ""),
            "scope_insert": ("INSERT", "", write),
            "scope_update": ("UPDATE", write, write),
            "scope_delete": ("DELETE", write, ""),
        }
    if kind == "casework":
        # A centre's own work that its supervisors also act on (escalated cases handled in
        # the parent's queue, ledger items the division opens): read like operational rows,
        # written by the centre or by a supervisor of its subtree.
        both = f"{write} OR {_in('supervise_ids')}"
        return {
            "scope_read": ("SELECT", _in("read_ids"), ""),
            "scope_insert": ("INSERT", "", both),
            "scope_update": ("UPDATE", both, both),
            "scope_delete": ("DELETE", write, ""),
        }
    if kind == "shared":
        return {
            "scope_read": ("SELECT", f"{_in('shared_ids')} OR {_in('read_ids')}", ""),
            "scope_insert": ("INSERT", "", write),
            "scope_update": ("UPDATE", write, write),
            "scope_delete": ("DELETE", write, ""),
        }
    if kind == "supervisory":
        sup = _in("supervise_ids")
        return {
            "scope_read": ("SELECT", _in("read_ids"), ""),
            "scope_insert": ("INSERT", "", sup),
            "scope_update": ("UPDATE", sup, sup),
            "scope_delete": ("DELETE", sup, ""),
        }
    if kind == "membership":
        return {
            "scope_read": ("SELECT", f"{_in('read_ids')} OR user_id = {_USER}", ""),
            "scope_insert": ("INSERT", "", write),
            "scope_update": ("UPDATE", write, write),
            "scope_delete": ("DELETE", write, ""),
        }
    if kind == "personal":
        # One person's rows (the inbox): only they read or change them; anyone acting for
        # the tenant (or the system scope of a job) may add to them.
        own = f"user_id = {_USER}"
        return {
            "scope_read": ("SELECT", f"{own} OR {_SYSTEM}", ""),
            "scope_insert": ("INSERT", "", write),
            "scope_update": ("UPDATE", own, own),
            "scope_delete": ("DELETE", own, ""),
        }
    if kind == "audit":
        # Append-only: no UPDATE or DELETE policy (and no such grant).  Rows without a
        # tenant (logins, platform actions) are visible to the audited system scope only.
        return {
            "scope_read": ("SELECT", f"{_in('read_ids')} OR (tenant_id IS NULL AND {_SYSTEM})", ""),
            "scope_insert": ("INSERT", "", f"tenant_id IS NULL OR {_in('read_ids')}"),
        }
    raise ValueError(f"unknown table class {kind!r} for {table}")


async def _run(sql: str) -> list[dict]:
    return await db.engine().run_querystring(QueryString(sql))


@contextlib.asynccontextmanager
async def exclusive() -> AsyncIterator[None]:
    """Hold the database's migrate lock (PostgreSQL; nothing to hold on SQLite).

    A *session* lock on a connection of its own, idle while the work runs: Piccolo runs each
    migration in its own transaction on other connections, and ``CREATE INDEX CONCURRENTLY``
    waits for every older snapshot in the database — an open transaction holding a
    transaction-level lock would be waited for by our own index build.  For the same reason a
    second migrate polls ``pg_try_advisory_lock`` instead of blocking inside one long
    statement.  The lock goes with the connection, so a killed migrate never leaves it held.
    """
    eng = db.engine()
    if not isinstance(eng, PostgresEngine):
        yield
        return
    import asyncpg

    con = await asyncpg.connect(**eng.config)
    try:
        waited = False
        while not await con.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            if not waited:
                log.info("another migrate is running; waiting for it to finish")
                waited = True
            await asyncio.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            await con.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await con.close()


async def _existing_indexes() -> dict[str, bool]:
    """Index name → valid (PostgreSQL: a failed CONCURRENTLY build leaves an invalid one)."""
    if not db.is_postgres():
        return {}
    rows = await _run(
        "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
    )
    return {r["name"]: r["valid"] for r in rows}


async def apply_unique_keys() -> None:
    """The registry's composite unique keys and indexes (built CONCURRENTLY on PostgreSQL)."""
    postgres = db.is_postgres()
    existing = await _existing_indexes()
    wanted = [
        *(
            (f"uq_{t}_{'_'.join(k)}"[:63], "UNIQUE ", t, ", ".join(k), "")
            for t, ks in UNIQUE_KEYS.items()
            for k in ks
        ),
        *(
            (f"ix_{t}_{'_'.join(k)}"[:63], "", t, ", ".join(k), "")
            for t, ks in INDEXES.items()
            for k in ks
        ),
        *(
            (name, "", t, body, f" WHERE {where}" if where else "")
            for t, xs in EXPRESSION_INDEXES.items()
            for name, body, where in xs
        ),
    ]
    for name, unique, table, cols, where in wanted:
        if not postgres:
            await _run(f"CREATE {unique}INDEX IF NOT EXISTS {name} ON {table} ({cols}){where}")
            continue
        if existing.get(name):
            continue
        if name in existing:  # invalid: a concurrent build failed half-way
            log.warning("rebuilding invalid index %s", name)
            await _run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        try:
            await _run(
                f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({cols}){where}"
            )
        except Exception:
            # A failed build (duplicates under a new unique key) leaves an invalid index that
            # still slows writes and, if unique, still refuses duplicates: do not keep it.
            await _run(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            raise


def app_role_from_url(url: str) -> str | None:
    user = urlparse(url).username
    return user if user and _IDENT.match(user) else None


def _marker(command: str, using: str, check: str) -> str:
    digest = hashlib.sha256(f"{command}\n{using}\n{check}".encode()).hexdigest()[:16]
    return f"bianmin:{digest}"


async def _rls_state() -> tuple[dict[str, tuple[bool, bool]], dict[str, dict[str, str]]]:
    """Per table: (ENABLE, FORCE) flags, and its policies with their definition markers."""
    flags = await _run(
        "SELECT c.relname AS t, c.relrowsecurity AS e, c.relforcerowsecurity AS f"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    )
    rows = await _run(
        "SELECT c.relname AS t, p.polname AS name, coalesce(d.description, '') AS marker"
        " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_description d ON d.objoid = p.oid"
        " AND d.classoid = 'pg_policy'::regclass WHERE n.nspname = current_schema()"
    )
    policies_: dict[str, dict[str, str]] = {}
    for row in rows:
        policies_.setdefault(row["t"], {})[row["name"]] = row["marker"]
    return {r["t"]: (r["e"], r["f"]) for r in flags}, policies_


async def _rewrite_policies(table: str, wanted: dict[str, tuple[str, str, str]]) -> None:
    """ENABLE + FORCE and the table's policies, all in one transaction (retried on lock waits).

    Outside a transaction each DROP/CREATE commits alone, and between them FORCE ROW LEVEL
    SECURITY denies by default: a web request of an old process would see no rows at all.
    """
    import asyncpg

    for attempt in range(1, POLICY_ATTEMPTS + 1):
        try:
            async with db.engine().transaction():
                await _run(f"SET LOCAL lock_timeout = '{POLICY_LOCK_TIMEOUT}'")
                await _run(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                await _run(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
                existing = await _run(
                    f"SELECT policyname FROM pg_policies WHERE tablename = '{table}'"  # noqa: S608
                    " AND schemaname = current_schema()"
                )
                for row in existing:
                    await _run(f'DROP POLICY IF EXISTS "{row["policyname"]}" ON {table}')
                for name, (command, using, check) in wanted.items():
                    sql = f"CREATE POLICY {name} ON {table} FOR {command}"
                    if using:
                        sql += f" USING ({using})"
                    if check:
                        sql += f" WITH CHECK ({check})"
                    await _run(sql)
                    marker = _marker(command, using, check)
                    await _run(f"COMMENT ON POLICY {name} ON {table} IS '{marker}'")
            return
        except asyncpg.exceptions.LockNotAvailableError:
            if attempt == POLICY_ATTEMPTS:
                raise
            log.warning("table %s is busy (lock timeout); retrying its policies", table)
            await asyncio.sleep(attempt)


async def apply_row_level_security(app_role: str | None) -> None:
    """ENABLE + FORCE row-level security on every tenant-owned table; grant the app role."""
    flags, present = await _rls_state()
    for table, spec in TENANT_TABLES.items():
        wanted = policies(table, spec.kind)
        markers = {name: _marker(*definition) for name, definition in wanted.items()}
        if flags.get(table) == (True, True) and present.get(table, {}) == markers:
            continue
        log.info("row-level security of %s: (re)writing its policies", table)
        await _rewrite_policies(table, wanted)
    if app_role:
        await _grant(app_role)


async def _grant(app_role: str) -> None:
    """The app role's table rights, in one transaction (no moment without them)."""
    exists = await _run(f"SELECT 1 FROM pg_roles WHERE rolname = '{app_role}'")  # noqa: S608
    if not exists:
        return
    owner = await _run("SELECT current_user AS u")
    if owner[0]["u"] == app_role:
        return
    async with db.engine().transaction():
        await _run(f"GRANT USAGE ON SCHEMA public TO {app_role}")
        await _run(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app_role}"
        )
        await _run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app_role}")
        for table, spec in TENANT_TABLES.items():
            if spec.kind == "audit":
                await _run(f"REVOKE UPDATE, DELETE ON {table} FROM {app_role}")
        await _run(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON migration FROM {app_role}")


async def migrate(app_role: str | None = None, quiet: bool = True) -> None:
    """Bring the schema up to date on the current engine (the maintenance role's)."""
    async with exclusive():
        out = io.StringIO()
        with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
            result = await run_forwards(app_name="all", migration_id="all")
        if not result.success:
            raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
        await apply_unique_keys()
        if db.is_postgres():
            await apply_row_level_security(app_role)
