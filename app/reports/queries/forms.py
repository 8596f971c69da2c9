"""Report forms and their versions (shared definitions owned by a division)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app import db
from app.reports.tables import FormVersion, ReportForm
from app.tenancy.scope import TenantScope


def _visible(scope: TenantScope) -> list[int]:
    return sorted(scope.shared_ids | scope.read_ids)


async def forms(scope: TenantScope, include_retired: bool = True) -> list[dict[str, Any]]:
    """The forms this scope may read: its own division's (shared down the tree)."""
    async with db.read(scope):
        query = ReportForm.select(
            *ReportForm.all_columns(),
            ReportForm.tenant.slug.as_alias("owner_slug"),
            ReportForm.tenant.name.as_alias("owner_name"),
        ).where(ReportForm.tenant.is_in(_visible(scope)))
        if not include_retired:
            query = query.where(ReportForm.retired_at.is_null())
        return await query.order_by(ReportForm.code)


async def form(scope: TenantScope, form_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ReportForm.select(
                *ReportForm.all_columns(),
                ReportForm.tenant.slug.as_alias("owner_slug"),
            )
            .where((ReportForm.id == form_id) & ReportForm.tenant.is_in(_visible(scope)))
            .first()
        )


async def form_by_code(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await ReportForm.select()
            .where(
                (ReportForm.tenant == tenant_id)
                & (ReportForm.code == code)
                & ReportForm.tenant.is_in(_visible(scope))
            )
            .first()
        )


async def versions(scope: TenantScope, form_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await FormVersion.select(
                *FormVersion.all_columns(),
                FormVersion.created_by.display_name.as_alias("created_by_name"),
            )
            .where((FormVersion.form == form_id) & FormVersion.tenant.is_in(_visible(scope)))
            .order_by(FormVersion.number, ascending=False)
            .output(load_json=True)
        )


async def version(scope: TenantScope, version_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await FormVersion.select()
            .where((FormVersion.id == version_id) & FormVersion.tenant.is_in(_visible(scope)))
            .output(load_json=True)
            .first()
        )


async def version_number(scope: TenantScope, form_id: int, number: int) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await FormVersion.select()
            .where(
                (FormVersion.form == form_id)
                & (FormVersion.number == number)
                & FormVersion.tenant.is_in(_visible(scope))
            )
            .output(load_json=True)
            .first()
        )


async def version_in_force(scope: TenantScope, form_id: int, day: date) -> dict[str, Any] | None:
    """The newest version effective on ``day`` (None before the first one)."""
    async with db.read(scope):
        return (
            await FormVersion.select()
            .where(
                (FormVersion.form == form_id)
                & (FormVersion.effective_from <= day)
                & FormVersion.tenant.is_in(_visible(scope))
            )
            .order_by(FormVersion.number, ascending=False)
            .output(load_json=True)
            .first()
        )


async def insert_form(scope: TenantScope, tenant_id: int, code: str, title: str) -> int:
    """Inside the caller's write transaction."""
    scope.check_write(tenant_id)
    rows = await ReportForm.insert(
        ReportForm(tenant=tenant_id, code=code, title=title, current_version=1)
    ).returning(ReportForm.id)
    return int(rows[0]["id"])


async def insert_version(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction; also makes it the form's current version."""
    scope.check_write(tenant_id)
    rows = await FormVersion.insert(FormVersion(tenant=tenant_id, **values)).returning(
        FormVersion.id
    )
    await ReportForm.update({ReportForm.current_version: values["number"]}).where(
        (ReportForm.id == values["form"]) & (ReportForm.tenant == tenant_id)
    )
    return int(rows[0]["id"])


async def update_form(scope: TenantScope, form_id: int, tenant_id: int, **values: Any) -> None:
    scope.check_write(tenant_id)
    changes: dict[Any, Any] = dict(values)
    await ReportForm.update(changes).where(
        (ReportForm.id == form_id) & (ReportForm.tenant == tenant_id)
    )


async def active_forms(scope: TenantScope) -> list[dict[str, Any]]:
    """Every form not retired (the period-opening sweep, under a system scope)."""
    async with db.read(scope):
        return (
            await ReportForm.select()
            .where(ReportForm.retired_at.is_null() & ReportForm.tenant.is_in(_visible(scope)))
            .order_by(ReportForm.id)
        )
