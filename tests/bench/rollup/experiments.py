"""Schema changes the benchmark can try on its own database (never on the app's): the
measurements before and after show what a change to ``app/`` would buy.

* ``custom_plans``: the app role plans every statement with its values
  (``plan_cache_mode = force_custom_plan``).  asyncpg prepares each statement; after five
  runs on a connection PostgreSQL may switch to a generic plan, and for the roll-up
  queries that plan is a scan that re-checks the RLS expression on every row.
* ``initplan_policies``: every row-level-security policy re-created with each id set
  read once per statement — ``(SELECT string_to_array(…)::int[])::int[]`` is an InitPlan —
  instead of re-parsing ``current_setting('app.read_ids')`` for every row it filters.
* ``ddl``: any statement (e.g. ``CREATE INDEX …``) run as the superuser, then ANALYZE.
"""

from __future__ import annotations

import time

import psycopg

from tests.bench.rollup.database import Target


def _connect(target: Target, url: str | None = None) -> psycopg.Connection:
    return psycopg.connect(url or target.admin_url, autocommit=True)


def custom_plans(target: Target) -> float:
    """For the app role's new connections (the caller reopens the pool)."""
    started = time.perf_counter()
    with _connect(target) as con:
        con.execute(f"ALTER ROLE {target.roles[1]} SET plan_cache_mode = force_custom_plan")  # type: ignore[arg-type]
    return time.perf_counter() - started


def policies(table: str, kind: str, initplan: bool) -> dict[str, tuple[str, str, str]]:
    """The app's policies of a table, with the id sets as InitPlans when asked."""
    from app import maintenance

    found = maintenance.policies(table, kind)
    if not initplan:
        return found
    sets = [*maintenance._SETS.values(), maintenance._USER, maintenance._SYSTEM]
    out = {}
    for name, (command, using, check) in found.items():
        for expr in sets:
            # the outer cast keeps ``ANY (…)`` an array expression, not a subquery
            wrapped = f"(SELECT {expr})::int[]" if expr.endswith("::int[]") else f"(SELECT {expr})"
            using = using.replace(expr, wrapped)
            check = check.replace(expr, wrapped)
        out[name] = (command, using, check)
    return out


def create_policies(con: psycopg.Connection, table: str, kind: str, initplan: bool) -> None:
    for name, (command, using, check) in policies(table, kind, initplan).items():
        sql = f"CREATE POLICY {name} ON {table} FOR {command}"
        sql += f" USING ({using})" if using else ""
        sql += f" WITH CHECK ({check})" if check else ""
        con.execute(f'DROP POLICY IF EXISTS "{name}" ON {table}')  # type: ignore[arg-type]
        con.execute(sql)  # type: ignore[arg-type]


INITPLAN: list[bool] = []  # set once the policies were re-created


def initplan_policies(target: Target) -> float:
    """Re-create every policy with the id sets as InitPlans; returns seconds taken."""
    from app import db
    from app.schema import TENANT_TABLES

    db.all_tables()  # imports every table module: they register in TENANT_TABLES
    started = time.perf_counter()
    with _connect(target, target.maint_url) as con:
        for table, spec in TENANT_TABLES.items():
            create_policies(con, table, spec.kind, True)
    INITPLAN.append(True)
    return time.perf_counter() - started


def ddl(target: Target, statement: str) -> float:
    started = time.perf_counter()
    with _connect(target) as con:
        con.execute(statement)  # type: ignore[arg-type]
        con.execute("ANALYZE")
    return time.perf_counter() - started


def subtree_once() -> float:
    """What hoisting ``tree.subtree(under_id)`` out of the loop in ``rollup.grid`` buys:
    ``Tree.subtree`` remembers its answers per tree object (the bench only; the app
    change is one line in app/reports/rollup.py)."""
    from app.tenancy.scope import Tree

    original = Tree.subtree
    memo: dict[tuple[int, int], set[int]] = {}

    def subtree(self: Tree, tenant_id: int) -> set[int]:
        key = (id(self.nodes), tenant_id)
        if key not in memo:
            if len(memo) > 1000:
                memo.clear()
            memo[key] = original(self, tenant_id)
        return memo[key]

    Tree.subtree = subtree  # type: ignore[method-assign]
    return 0.0
