"""Helpers for circular tests: a submitted inspection row, a tiny PDF, issuing by HTTP."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app import db
from app.accounts import queries as accounts
from app.inspections.tables import Checklist, ChecklistVersion, Finding, Inspection
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import run

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _inspection(slug: str, findings: int, state: str) -> int:
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: inspection for circulars")
    d4 = tree.by_slug["d4"].id
    lead = await accounts.user_by_username("d4-liuhong")
    assert lead is not None
    code = f"circ-{secrets.token_hex(4)}"
    async with db.write(system):
        checklist = (
            await Checklist.insert(
                Checklist(tenant=d4, code=code, title="便民服务中心检查表")
            ).returning(Checklist.id)
        )[0]["id"]
        version = (
            await ChecklistVersion.insert(
                ChecklistVersion(
                    tenant=d4,
                    checklist=checklist,
                    number=1,
                    effective_from=date(2026, 1, 1),
                    definition={"sections": []},
                    max_score=Decimal("100"),
                )
            ).returning(ChecklistVersion.id)
        )[0]["id"]
        submitted = state in ("submitted", "acknowledged")
        inspection = (
            await Inspection.insert(
                Inspection(
                    tenant=tree.by_slug[slug].id,
                    checklist=checklist,
                    version=version,
                    client_key=secrets.token_hex(16),
                    planned_on=date(2026, 4, 15),
                    lead=lead["id"],
                    state=state,
                    score=Decimal("87.50") if submitted else None,
                    max_score=Decimal("100") if submitted else None,
                    percent=Decimal("87.50") if submitted else None,
                    submitted_at=datetime(2026, 4, 15, 6, tzinfo=UTC) if submitted else None,
                )
            ).returning(Inspection.id)
        )[0]["id"]
        for position in range(findings):
            await Finding.insert(
                Finding(
                    tenant=tree.by_slug[slug].id,
                    inspection=inspection,
                    position=position,
                    text=f"发现问题 {position + 1}",
                )
            )
    return int(inspection)


def inspection(slug: str = "xa", findings: int = 3, state: str = "submitted") -> int:
    return int(run(_inspection(slug, findings, state)))


def ids(*slugs: str) -> list[int]:
    async def go() -> list[int]:
        tree = await tenancy.tree()
        return [tree.by_slug[s].id for s in slugs]

    return list(run(go()))


def issue(client: Any, token: str, slug: str, **data: Any) -> Any:
    files = data.pop("files", None)
    return client.post(f"/t/{slug}/circulars/new", data={"csrf_token": token, **data}, files=files)


def issued_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    found = re.search(r"/circulars/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))
