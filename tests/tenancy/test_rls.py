"""Row-level security on PostgreSQL: forced policies, scope sets, fail-closed, append-only audit.

These run in ``make test-pg`` (``.ci/run``), where the suite connects as an app role that
neither owns the tables nor bypasses RLS.
"""

from __future__ import annotations

import pytest
from piccolo.querystring import QueryString

from app import db
from app.accounts import queries as accounts
from app.schema import TENANT_TABLES
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope
from tests.conftest import PG_ADMIN

pytestmark = pytest.mark.skipif(not PG_ADMIN, reason="PostgreSQL only (make test-pg)")

# Tables the seeded manifests fill for every centre (a positive control for those).
SEEDED = {"department", "service_window", "window_department", "membership", "window_post"}


async def _sql(sql: str, *args: object) -> list[dict]:
    return [dict(r) for r in await db.engine().run_querystring(QueryString(sql, *args))]


async def _scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


async def test_app_role_neither_owns_nor_bypasses() -> None:
    me = (await _sql("SELECT current_user AS u"))[0]["u"]
    role = (await _sql("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user"))[
        0
    ]
    assert not role["rolbypassrls"] and not role["rolsuper"]
    owners = await _sql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert me not in {o["tableowner"] for o in owners}


async def test_every_table_with_tenant_id_has_a_forced_policy() -> None:
    tables = await _sql(
        "SELECT DISTINCT table_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'tenant_id'"
    )
    names = {t["table_name"] for t in tables}
    assert names, "no tenant-owned tables found"
    assert names == set(TENANT_TABLES), "every table with tenant_id must be registered"
    for name in sorted(names):
        flags = (
            await _sql(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = {}", name
            )
        )[0]
        policies = await _sql("SELECT policyname FROM pg_policies WHERE tablename = {}", name)
        assert flags["relrowsecurity"] and flags["relforcerowsecurity"], name
        assert policies, f"{name} has no policy"


async def test_missing_scope_fails_closed() -> None:
    for name in TENANT_TABLES:
        rows = await _sql(f"SELECT count(*) AS n FROM {name}")
        assert rows[0]["n"] == 0, name


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
async def test_unfiltered_queries_stay_inside_the_scope(table: str) -> None:
    """Remove the WHERE a query function would add: RLS alone shows exactly the scope's rows."""
    scope = await _scope_of("xa-manager", "xa")
    kind = TENANT_TABLES[table].kind
    allowed = set(scope.read_ids)
    if kind == "shared":
        allowed |= scope.shared_ids
    everything = system_scope(await tenancy.tree(), reason="test")
    async with db.read(everything):
        all_rows = await _sql(f"SELECT * FROM {table}")

    def expected(row: dict) -> bool:
        if kind == "personal":
            return row["user_id"] == scope.user_id
        if kind == "membership" and row["user_id"] == scope.user_id:
            return True
        return row["tenant_id"] in allowed

    async with db.read(scope):
        rows = await _sql(f"SELECT * FROM {table}")
    assert {r["id"] for r in rows} == {r["id"] for r in all_rows if expected(r)}, table
    if kind in ("operational", "shared", "membership") and table in SEEDED:
        assert rows, f"positive control: {table} should show the scope's own rows"


async def test_regiment_user_cannot_read_the_divisions_operational_rows() -> None:
    tree = await tenancy.tree()
    d4 = tree.by_slug["d4"].id
    division = await _scope_of("d4-liuhong", "d4")
    regiment = await _scope_of("r63-zhoujianguo", "r63")
    async with db.read(division):
        own = await _sql("SELECT id FROM service_window WHERE tenant_id = {}", d4)
    assert own, "positive control: the division sees its own windows"
    async with db.read(regiment):
        leaked = await _sql("SELECT id FROM service_window WHERE tenant_id = {}", d4)
        by_id = await _sql("SELECT id FROM service_window WHERE id = {}", own[0]["id"])
    assert leaked == [] and by_id == []
    # …but the division's shared department list is readable by the regiment.
    async with db.read(regiment):
        shared = await _sql("SELECT id FROM department WHERE tenant_id = {}", d4)
    assert shared


async def test_writes_outside_write_ids_are_refused() -> None:
    import asyncpg

    tree = await tenancy.tree()
    xb = tree.by_slug["xb"].id
    scope = await _scope_of("xa-manager", "xa")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        async with db.write(scope):
            await _sql(
                "INSERT INTO service_window (tenant_id, code, name, note, sort)"
                " VALUES ({}, 'HACK', 'hack', '', 0)",
                xb,
            )
    async with db.write(scope):
        updated = await _sql(
            "UPDATE service_window SET name = 'hacked' WHERE tenant_id = {} RETURNING id", xb
        )
    assert updated == []
    supervisor = await _scope_of("d4-liuhong", "xb")  # reads the subtree, writes nothing there
    assert xb in supervisor.read_ids and xb not in supervisor.write_ids
    async with db.write(supervisor):
        updated = await _sql(
            "UPDATE service_window SET name = 'hacked' WHERE tenant_id = {} RETURNING id", xb
        )
    assert updated == []


async def test_audit_log_is_append_only() -> None:
    import asyncpg

    scope = await _scope_of("xa-manager", "xa")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        async with db.write(scope):
            await _sql("UPDATE audit_log SET action = 'x'")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        async with db.write(scope):
            await _sql("DELETE FROM audit_log")


async def test_custom_plans_are_set_per_transaction_and_do_not_outlive_it() -> None:
    """plan_cache_mode rides with the scope (PgBouncer refuses it as a startup parameter)."""
    scope = system_scope(await tenancy.tree(), reason="tests: plan cache mode")
    async with db.read(scope):
        inside = (await _sql("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"]
    after = (await _sql("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"]
    assert (inside, after) == ("force_custom_plan", "auto")
