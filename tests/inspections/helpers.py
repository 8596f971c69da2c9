"""Shared helpers for inspection tests: a small test checklist of d4, scopes, starting and
filling inspections through the real services, a tiny PNG."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from typing import Any

from app import db
from app.inspections import answers as answers_service
from app.inspections import definition as definitions
from app.inspections import inspections as service
from app.inspections.queries import checklists as checklist_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests.cases.helpers import run, scope_of

__all__ = [
    "CHECKLIST",
    "DEFINITION",
    "PNG",
    "checklist",
    "fill_all",
    "inspector",
    "manager",
    "run",
    "scope_of",
    "start",
]

CODE = "test-inspection"
# 3 + 2.5 + 4 + 0.5 = 10: two sections, one item needs a photo.
DEFINITION: dict[str, Any] = {
    "sections": [
        {
            "key": "hardware",
            "title": "硬件设施",
            "items": [
                {"key": "h1", "text": "标牌醒目", "max_score": "3", "photo_required": True},
                {"key": "h2", "text": "公开上墙", "max_score": "2.5"},
            ],
        },
        {
            "key": "daily",
            "title": "日常管理",
            "items": [
                {"key": "d1", "text": "首问负责", "max_score": "4"},
                {"key": "d2", "text": "考勤台账", "max_score": "0.5"},
            ],
        },
    ]
}
CHECKLIST = CODE
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MANAGERS = {"xa": "xa-manager", "xb": "xb-manager", "r63": "r63-zhoujianguo", "r68": "r68-liguohua"}


async def checklist() -> dict[str, Any]:
    """The test checklist of d4 (created on first use in this database)."""
    tree = await tenancy.tree()
    d4 = tree.by_slug["d4"].id
    system = system_scope(tree, reason="tests: inspection checklist")
    found = await checklist_queries.checklist_by_code(system, d4, CODE)
    if found is None:
        defn = definitions.validate(DEFINITION)
        try:
            async with db.write(system):
                checklist_id = await checklist_queries.insert_checklist(
                    system, d4, CODE, "测试检查表", "centre"
                )
                await checklist_queries.insert_version(
                    system,
                    d4,
                    checklist=checklist_id,
                    number=1,
                    effective_from=date(2025, 1, 1),
                    definition=definitions.dump(defn),
                    max_score=definitions.max_score(defn),
                )
        except Exception as exc:  # another test module of this worker created it meanwhile
            if not service.unique_violation(exc):
                raise
        found = await checklist_queries.checklist_by_code(system, d4, CODE)
    assert found is not None
    return found


async def inspector(username: str = "d4-liuhong") -> TenantScope:
    return await scope_of(username, "d4")


async def manager(slug: str) -> TenantScope:
    return await scope_of(MANAGERS[slug], slug)


async def start(
    slug: str = "xa",
    *,
    spot: bool = True,
    key: str | None = None,
    scope: TenantScope | None = None,
    on: date | None = None,
) -> int:
    scope = scope or await inspector()
    tree = await tenancy.tree()
    found = await checklist()
    inspection_id, _created = await service.start(
        None,
        scope,
        tree,
        service.Plan(
            centre_id=tree.by_slug[slug].id,
            checklist_id=found["id"],
            planned_on=on or date(2026, 11, 20),
            inspectors=[],
            origin="spot" if spot else "planned",
            client_key=key or uuid.uuid4().hex,
        ),
    )
    return inspection_id


async def fill_all(
    inspection_id: int, scores: dict[str, str], scope: TenantScope | None = None
) -> int:
    """Save ``scores`` section by section; returns the lock version afterwards."""
    scope = scope or await inspector()
    loaded = await service.load(scope, inspection_id)
    lock = int(loaded.row["lock_version"])
    for index, section in enumerate(loaded.definition.sections):
        posted = {f"score_{i.key}": scores[i.key] for i in section.items if i.key in scores}
        if not posted:
            continue
        answers, errors = answers_service.parse_section(loaded, index, posted)
        assert not errors, errors
        saved = await answers_service.save_section(
            None, scope, inspection_id, index, answers, lock_version=lock, save_id=uuid.uuid4().hex
        )
        lock = saved.lock_version
        loaded = await service.load(scope, inspection_id)
    return lock


async def submitted_inspection(slug: str, png: bytes = PNG) -> tuple[int, int]:
    """A submitted inspection of ``slug`` (a centre under d4) with one photo: (inspection id,
    photo id) — for the security walks (tests/security harness)."""
    import io

    from starlette.datastructures import Headers, UploadFile

    from app.inspections import findings as submission
    from app.inspections import photos

    scope = await inspector()
    inspection_id = await start(slug)
    added = await photos.add_photo(
        None,
        scope,
        inspection_id,
        "h1",
        uuid.uuid4().hex,
        UploadFile(
            io.BytesIO(png), filename="h1.png", headers=Headers({"content-type": "image/png"})
        ),
    )
    await submission.submit(
        None,
        scope,
        await tenancy.tree(),
        inspection_id,
        [submission.FindingInput("测试问题", "h2", 5)],
    )
    return inspection_id, added.id
