"""Cases, their timeline, materials, documents and the gap-free counters."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app import db
from app.cases.queries import stats
from app.cases.tables import Case, CaseCounter, CaseDocument, CaseEvent, CaseMaterial
from app.tenancy.scope import TenantScope

CASE_COLUMNS = (
    *Case.all_columns(),
    Case.owner.display_name.as_alias("owner_name"),
    Case.window.name.as_alias("window_name"),
    Case.window.code.as_alias("window_code"),
    Case.tenant.slug.as_alias("tenant_slug"),
    Case.tenant.name.as_alias("tenant_name"),
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- counters ------------------------------------------------------------------------------


async def next_number(scope: TenantScope, tenant_id: int, series: str, year: int) -> int:
    """The next number of a series, inside the caller's write transaction (gap-free).

    The counter row is created on first use (``ON CONFLICT DO NOTHING``) and then bumped
    with one ``UPDATE … RETURNING``: on PostgreSQL the row lock orders concurrent intakes,
    on SQLite the IMMEDIATE transaction does; a rolled-back intake rolls its number back.
    """
    scope.check_write(tenant_id)
    await CaseCounter.insert(
        CaseCounter(tenant=tenant_id, series=series, year=year, value=0)
    ).on_conflict(
        target=(CaseCounter.tenant, CaseCounter.series, CaseCounter.year), action="DO NOTHING"
    )
    rows = (
        await CaseCounter.update({CaseCounter.value: CaseCounter.value + 1})
        .where(
            (CaseCounter.tenant == tenant_id)
            & (CaseCounter.series == series)
            & (CaseCounter.year == year)
        )
        .returning(CaseCounter.value)
    )
    return int(rows[0]["value"])


# --- cases ---------------------------------------------------------------------------------


async def insert_case(scope: TenantScope, **values: Any) -> int:
    scope.check_write(values["tenant"])
    rows = await Case.insert(Case(**values)).returning(Case.id)
    return int(rows[0]["id"])


async def case(scope: TenantScope, case_id: int) -> dict[str, Any] | None:
    """One case the scope may read (None otherwise: the caller answers 404)."""
    async with db.read(scope):
        return (
            await Case.select(*CASE_COLUMNS)
            .where((Case.id == case_id) & Case.tenant.is_in(list(scope.read_ids)))
            .first()
        )


async def case_by_number(scope: TenantScope, tenant_id: int, number: str) -> dict[str, Any] | None:
    async with db.read(scope):
        return (
            await Case.select(*CASE_COLUMNS)
            .where(
                (Case.tenant == tenant_id)
                & (Case.number == number)
                & Case.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )


async def update_case(scope: TenantScope, case_id: int, now: datetime, **values: Any) -> None:
    """Change columns of a case the scope may act on (its own centre, or as a supervisor)."""
    values["updated_at"] = now
    allowed = list(scope.write_ids | scope.supervise_ids)
    await Case.update({getattr(Case, k): v for k, v in values.items()}).where(
        (Case.id == case_id) & Case.tenant.is_in(allowed)
    )


# --- timeline ------------------------------------------------------------------------------


async def insert_event(
    scope: TenantScope,
    tenant_id: int,
    case_id: int,
    *,
    at: datetime,
    action: str,
    actor_id: int | None,
    actor_name: str = "",
    state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> int:
    rows = await CaseEvent.insert(
        CaseEvent(
            tenant=tenant_id,
            case=case_id,
            at=at,
            action=action,
            actor=actor_id,
            actor_name=actor_name,
            state=state,
            note=note,
            data=data or {},
        )
    ).returning(CaseEvent.id)
    # The monthly figures this event can change: marked now, recomputed once it commits.
    await stats.mark_case_months(scope, tenant_id, case_id, at)
    from app.cases.stats import refresh_soon  # the service module imports this one

    refresh_soon()
    return int(rows[0]["id"])


async def events(scope: TenantScope, case_id: int) -> list[dict[str, Any]]:
    """The timeline of one case, oldest first."""
    async with db.read(scope):
        rows = (
            await CaseEvent.select(*CaseEvent.all_columns())
            .where((CaseEvent.case == case_id) & CaseEvent.tenant.is_in(list(scope.read_ids)))
            .order_by(CaseEvent.at)
            .order_by(CaseEvent.id)
        )
    for row in rows:
        row["data"] = _json(row["data"]) or {}
    return rows


async def events_of_cases(
    scope: TenantScope, case_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Timelines of many cases (recompute jobs), oldest first."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    async with db.read(scope):
        rows = (
            await CaseEvent.select(*CaseEvent.all_columns())
            .where(CaseEvent.case.is_in(case_ids) & CaseEvent.tenant.is_in(list(scope.read_ids)))
            .order_by(CaseEvent.at)
            .order_by(CaseEvent.id)
        )
    for row in rows:
        row["data"] = _json(row["data"]) or {}
        out[row["case_id"]].append(row)
    return out


# --- materials -----------------------------------------------------------------------------


async def insert_materials(
    scope: TenantScope, tenant_id: int, case_id: int, lines: list[dict[str, Any]]
) -> None:
    if not lines:
        return
    await CaseMaterial.insert(
        *(CaseMaterial(tenant=tenant_id, case=case_id, **line) for line in lines)
    )


async def materials(scope: TenantScope, case_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await CaseMaterial.select(*CaseMaterial.all_columns())
            .where((CaseMaterial.case == case_id) & CaseMaterial.tenant.is_in(list(scope.read_ids)))
            .order_by(CaseMaterial.position)
        )


async def update_material(scope: TenantScope, material_id: int, **values: Any) -> None:
    allowed = list(scope.write_ids | scope.supervise_ids)
    await CaseMaterial.update({getattr(CaseMaterial, k): v for k, v in values.items()}).where(
        (CaseMaterial.id == material_id) & CaseMaterial.tenant.is_in(allowed)
    )


# --- documents -----------------------------------------------------------------------------


async def insert_document(scope: TenantScope, **values: Any) -> int:
    rows = await CaseDocument.insert(CaseDocument(**values)).returning(CaseDocument.id)
    return int(rows[0]["id"])


async def documents(scope: TenantScope, case_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        rows = (
            await CaseDocument.select(*CaseDocument.all_columns())
            .where((CaseDocument.case == case_id) & CaseDocument.tenant.is_in(list(scope.read_ids)))
            .order_by(CaseDocument.issued_at)
            .order_by(CaseDocument.id)
        )
    for row in rows:
        row["body"] = _json(row["body"]) or {}
    return rows


async def document(scope: TenantScope, document_id: int) -> dict[str, Any] | None:
    async with db.read(scope):
        row = (
            await CaseDocument.select(*CaseDocument.all_columns())
            .where(
                (CaseDocument.id == document_id) & CaseDocument.tenant.is_in(list(scope.read_ids))
            )
            .first()
        )
    if row is not None:
        row["body"] = _json(row["body"]) or {}
    return row
