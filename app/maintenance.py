"""Schema work that runs as the maintenance role: migrations, unique keys, row-level security.

``python -m app migrate`` (and the Procfile's ``release``) calls :func:`migrate`.  Everything
here is idempotent and additive, so it can run while old web processes still serve.
"""

from __future__ import annotations

import contextlib
import io
import re
from urllib.parse import urlparse

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.querystring import QueryString

from app import db
from app.schema import INDEXES, TENANT_TABLES, UNIQUE_KEYS

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

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


async def apply_unique_keys() -> None:
    for table, keys in UNIQUE_KEYS.items():
        for key in keys:
            name = f"uq_{table}_{'_'.join(key)}"[:63]
            cols = ", ".join(key)
            await _run(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({cols})")
    for table, keys in INDEXES.items():
        for key in keys:
            name = f"ix_{table}_{'_'.join(key)}"[:63]
            cols = ", ".join(key)
            await _run(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({cols})")


def app_role_from_url(url: str) -> str | None:
    user = urlparse(url).username
    return user if user and _IDENT.match(user) else None


async def apply_row_level_security(app_role: str | None) -> None:
    """ENABLE + FORCE row-level security on every tenant-owned table; grant the app role."""
    for table, spec in TENANT_TABLES.items():
        await _run(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        await _run(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        existing = await _run(
            f"SELECT policyname FROM pg_policies WHERE tablename = '{table}'"  # noqa: S608
        )
        for row in existing:
            await _run(f'DROP POLICY IF EXISTS "{row["policyname"]}" ON {table}')
        for name, (command, using, check) in policies(table, spec.kind).items():
            sql = f"CREATE POLICY {name} ON {table} FOR {command}"
            if using:
                sql += f" USING ({using})"
            if check:
                sql += f" WITH CHECK ({check})"
            await _run(sql)
    if not app_role:
        return
    exists = await _run(f"SELECT 1 FROM pg_roles WHERE rolname = '{app_role}'")  # noqa: S608
    if not exists:
        return
    owner = await _run("SELECT current_user AS u")
    if owner[0]["u"] == app_role:
        return
    await _run(f"GRANT USAGE ON SCHEMA public TO {app_role}")
    await _run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app_role}")
    await _run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app_role}")
    for table, spec in TENANT_TABLES.items():
        if spec.kind == "audit":
            await _run(f"REVOKE UPDATE, DELETE ON {table} FROM {app_role}")
    await _run(f"REVOKE ALL ON migration FROM {app_role}")
    await _run(f"GRANT SELECT ON migration TO {app_role}")


async def migrate(app_role: str | None = None, quiet: bool = True) -> None:
    """Bring the schema up to date on the current engine (the maintenance role's)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    await apply_unique_keys()
    if db.is_postgres():
        await apply_row_level_security(app_role)
