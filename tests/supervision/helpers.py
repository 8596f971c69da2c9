"""Shared helpers for supervision tests: the system scope, hand-made inspections and
report submissions (written straight to the tables: the other areas' flows are tested
there), and reading figures."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app import db
from app.inspections.tables import Checklist, ChecklistVersion, Inspection
from app.reports.tables import Submission
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope


async def system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="tests: supervision")


async def tenant_id(slug: str) -> int:
    return (await tenancy.tree()).by_slug[slug].id


async def user_id(username: str) -> int:
    from app.accounts import queries as accounts

    user = await accounts.user_by_username(username)
    assert user is not None
    return int(user["id"])


async def checklist_version() -> tuple[int, int]:
    """(checklist id, version id) of a test checklist of d4 (created once)."""
    scope = await system()
    d4 = await tenant_id("d4")
    async with db.write(scope):
        found = (
            await Checklist.select(Checklist.id)
            .where((Checklist.tenant == d4) & (Checklist.code == "sup-test"))
            .first()
        )
        if found is None:
            rows = await Checklist.insert(
                Checklist(tenant=d4, code="sup-test", title="监察测试清单")
            ).returning(Checklist.id)
            checklist_id = int(rows[0]["id"])
            rows = await ChecklistVersion.insert(
                ChecklistVersion(
                    tenant=d4,
                    checklist=checklist_id,
                    number=1,
                    effective_from=date(2020, 1, 1),
                    definition={"sections": []},
                    max_score=Decimal("100"),
                )
            ).returning(ChecklistVersion.id)
            return checklist_id, int(rows[0]["id"])
        version = (
            await ChecklistVersion.select(ChecklistVersion.id)
            .where(ChecklistVersion.checklist == found["id"])
            .first()
        )
        assert version is not None
        return int(found["id"]), int(version["id"])


async def inspection(
    slug: str, state: str, percent: str | None, submitted_at: datetime | None, key: str
) -> int:
    checklist_id, version_id = await checklist_version()
    lead = await user_id("d4-liuhong")
    scope = await system()
    async with db.write(scope):
        rows = await Inspection.insert(
            Inspection(
                tenant=await tenant_id(slug),
                checklist=checklist_id,
                version=version_id,
                client_key=key,
                planned_on=(submitted_at or datetime(2090, 1, 1)).date(),
                lead=lead,
                state=state,
                score=None if percent is None else Decimal(percent),
                max_score=Decimal("100"),
                percent=None if percent is None else Decimal(percent),
                submitted_at=submitted_at,
            )
        ).returning(Inspection.id)
    return int(rows[0]["id"])


async def submission(slug: str, period: dict[str, Any], status: str, on_time: bool | None) -> int:
    scope = await system()
    async with db.write(scope):
        rows = await Submission.insert(
            Submission(
                tenant=await tenant_id(slug),
                period=period["id"],
                form=period["form_id"],
                month=period["month"],
                status=status,
                on_time=on_time,
                revision=1 if on_time is not None else 0,
            )
        ).returning(Submission.id)
    return int(rows[0]["id"])


async def clear_light_inbox() -> None:
    """Take the light notices out of every inbox (each person's rows under their own
    scope: inbox rows are personal), so tests elsewhere see the inboxes they expect."""
    from app.notify.tables import InboxItem
    from app.tenancy.scope import user_scope

    async with db.read(await system()):
        rows = await InboxItem.select(InboxItem.user).where(InboxItem.kind == "light")
    for uid in sorted({int(r["user_id"]) for r in rows}):
        async with db.write(user_scope(uid)):
            await InboxItem.delete().where((InboxItem.kind == "light") & (InboxItem.user == uid))
