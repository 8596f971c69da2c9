"""All database access for tenants, departments and windows."""

from __future__ import annotations

from typing import Any

from app import db
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.tenancy.tables import Department, Tenant, Window, WindowDepartment

# --- the tenant tree (the tenant table itself is not tenant-owned) -----------------------


async def tree() -> Tree:
    rows = await Tenant.select(
        Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.status, Tenant.parent
    )
    return Tree.of(
        TenantNode(r["id"], r["slug"], r["name"], r["kind"], r["status"], r["parent_id"])
        for r in rows
    )


async def tenant(scope: TenantScope, tenant_id: int) -> dict[str, Any] | None:
    """A tenant the scope may read (its own, its subtree, or — for shared rows — an ancestor)."""
    if tenant_id not in scope.read_ids | scope.shared_ids:
        return None
    return await Tenant.select().where(Tenant.id == tenant_id).first().output(load_json=True)


async def tenant_by_slug(slug: str) -> dict[str, Any] | None:
    return await Tenant.select().where(Tenant.slug == slug).first().output(load_json=True)


async def create_tenant(scope: TenantScope, **values: Any) -> int:
    if not scope.system:
        raise PermissionError("only the system scope creates tenants")
    rows = await Tenant.insert(Tenant(**values)).returning(Tenant.id)
    return rows[0]["id"]


async def update_tenant(scope: TenantScope, tenant_id: int, **values: Any) -> None:
    if not scope.system:
        raise PermissionError("only the system scope changes tenants")
    await Tenant.update({getattr(Tenant, k): v for k, v in values.items()}).where(
        Tenant.id == tenant_id
    )


# --- departments (shared, owned by the division) ---------------------------------------


async def departments(scope: TenantScope) -> list[dict[str, Any]]:
    """Every department visible to the scope (its own and its ancestors' lists)."""
    async with db.read(scope):
        return (
            await Department.select()
            .where(Department.tenant.is_in(list(scope.shared_ids)))
            .order_by(Department.sort)
            .order_by(Department.id)
        )


async def departments_of(scope: TenantScope, owner_id: int) -> dict[str, dict[str, Any]]:
    """Code → row for the departments owned by ``owner_id``."""
    async with db.read(scope):
        rows = await Department.select().where(
            (Department.tenant == owner_id) & Department.tenant.is_in(list(scope.shared_ids))
        )
    return {r["code"]: r for r in rows}


async def upsert_department(scope: TenantScope, owner_id: int, code: str, **values: Any) -> str:
    """Insert or update one department; returns "created", "updated" or "unchanged"."""
    scope.check_write(owner_id)
    row = (
        await Department.select()
        .where((Department.tenant == owner_id) & (Department.code == code))
        .first()
    )
    if row is None:
        await Department.insert(Department(tenant=owner_id, code=code, **values))
        return "created"
    changed = {k: v for k, v in values.items() if row[k] != v}
    if not changed:
        return "unchanged"
    await Department.update({getattr(Department, k): v for k, v in changed.items()}).where(
        Department.id == row["id"]
    )
    return "updated"


# --- windows (operational, per centre) -------------------------------------------------


async def windows_of(scope: TenantScope, tenant_ids: list[int]) -> list[dict[str, Any]]:
    """The windows (id, tenant_id, code, name) of several centres, in one query."""
    readable = [t for t in tenant_ids if t in scope.read_ids]
    if not readable:
        return []
    async with db.read(scope):
        return await (
            Window.select(Window.id, Window.tenant.as_alias("tenant_id"), Window.code, Window.name)
            .where(Window.tenant.is_in(readable))
            .order_by(Window.sort)
            .order_by(Window.id)
        )


async def windows(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The windows of one centre, each with the short names of the departments it serves."""
    async with db.read(scope):
        rows = (
            await Window.select()
            .where((Window.tenant == tenant_id) & Window.tenant.is_in(list(scope.read_ids)))
            .order_by(Window.sort)
            .order_by(Window.id)
        )
        links = await WindowDepartment.select(
            WindowDepartment.window,
            WindowDepartment.department.short_name.as_alias("short_name"),
            WindowDepartment.department.code.as_alias("code"),
        ).where(
            (WindowDepartment.tenant == tenant_id)
            & WindowDepartment.tenant.is_in(list(scope.read_ids))
        )
    by_window: dict[int, list[dict[str, Any]]] = {}
    for link in links:
        by_window.setdefault(link["window_id"], []).append(link)
    for row in rows:
        row["departments"] = by_window.get(row["id"], [])
    return rows


async def upsert_window(
    scope: TenantScope, tenant_id: int, code: str, department_ids: list[int], **values: Any
) -> tuple[int, str]:
    """Insert or update a window and the departments it serves."""
    scope.check_write(tenant_id)
    row = await Window.select().where((Window.tenant == tenant_id) & (Window.code == code)).first()
    status = "unchanged"
    if row is None:
        rows = await Window.insert(Window(tenant=tenant_id, code=code, **values)).returning(
            Window.id
        )
        window_id, status = rows[0]["id"], "created"
    else:
        window_id = row["id"]
        changed = {k: v for k, v in values.items() if row[k] != v}
        if changed:
            await Window.update({getattr(Window, k): v for k, v in changed.items()}).where(
                Window.id == window_id
            )
            status = "updated"
    current = {
        r["department_id"]
        for r in await WindowDepartment.select(WindowDepartment.department).where(
            WindowDepartment.window == window_id
        )
    }
    for dept in set(department_ids) - current:
        await WindowDepartment.insert(
            WindowDepartment(tenant=tenant_id, window=window_id, department=dept)
        )
        status = "updated" if status == "unchanged" else status
    return window_id, status
