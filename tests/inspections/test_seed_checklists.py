"""The two seeded checklists (tenants/checklist-*.toml) and re-applying manifests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from app import db
from app.inspections import definition as definitions
from app.inspections.queries import checklists as queries
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.apply import apply_path
from app.tenancy.manifests import ManifestError
from app.tenancy.scope import system_scope
from tests.conftest import ROOT


@pytest.fixture
async def maintenance() -> AsyncIterator[None]:
    db.use_url(settings.maintenance_database_url)
    try:
        yield
    finally:
        db.use_url(settings.database_url)


async def _seeded(code: str) -> tuple[dict, list[dict]]:
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests: checklists")
    found = await queries.checklist_by_code(scope, tree.by_slug["d4"].id, code)
    assert found is not None, code
    return found, await queries.versions(scope, found["id"])


async def test_the_centre_checklist_is_seeded() -> None:
    record, versions = await _seeded("centre-inspection")
    assert record["kind"] == "centre" and record["retired_at"] is None
    defn = definitions.load(versions[0]["definition"])
    assert [s.title for s in defn.sections] == [
        "一、硬件设施",
        "二、日常管理",
        "三、运行机制",
        "四、服务延伸",
    ]
    assert definitions.max_score(defn) == Decimal(100)
    assert Decimal(versions[0]["max_score"]) == Decimal(100)
    texts = " ".join(i.text for i in defn.items())
    for term in (
        "公开上墙",
        "亮牌办公",
        "AB岗",
        "首问负责",
        "一次性告知",
        "限时办结",
        "工作日志",
        "好差评",
        "连队",
    ):
        assert term in texts, term
    assert all(i.photo_required for i in defn.sections[0].items)  # hardware: photos
    assert all(i.guidance for i in defn.items())


async def test_the_discipline_checklist_has_seven_prohibitions() -> None:
    record, versions = await _seeded("discipline")
    assert record["kind"] == "discipline"
    defn = definitions.load(versions[0]["definition"])
    assert len(defn.items()) == 7
    assert all(i.text.startswith("不准") for i in defn.items())
    assert definitions.max_score(defn) == Decimal(100)


async def test_reapplying_the_seed_changes_nothing(maintenance: None) -> None:
    before = {c: len((await _seeded(c))[1]) for c in ("centre-inspection", "discipline")}
    for name in ("checklist-centre.toml", "checklist-discipline.toml"):
        report = await apply_path(ROOT / "tenants" / name)
        assert not report.has_changes, report.changed
        assert report.counts["checklist.unchanged"] == 1
    after = {c: len((await _seeded(c))[1]) for c in ("centre-inspection", "discipline")}
    assert before == after


MANIFEST = """
division = "d4"

[[checklists]]
code = "{code}"
title = "{title}"
kind = "discipline"
effective_from = 2026-01-01

[[checklists.sections]]
key = "rules"
title = "纪律"

[[checklists.sections.items]]
key = "p1"
text = "不准迟到早退"
max_score = {score}
photo_required = false
"""


async def test_a_changed_definition_becomes_a_new_version(
    tmp_path: Path, maintenance: None
) -> None:
    code = f"t-{secrets.token_hex(4)}"
    path = tmp_path / "c.toml"
    path.write_text(MANIFEST.format(code=code, title="测试表", score=10), encoding="utf-8")
    first = await apply_path(path)
    assert f"created checklist {code}" in first.changed
    again = await apply_path(path)
    assert not again.has_changes
    path.write_text(MANIFEST.format(code=code, title="测试表二", score="12.5"), encoding="utf-8")
    third = await apply_path(path)
    assert f"updated checklist {code}" in third.changed
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests")
    record = await queries.checklist_by_code(scope, tree.by_slug["d4"].id, code)
    assert record is not None and record["title"] == "测试表二" and record["current_version"] == 2
    versions = await queries.versions(scope, record["id"])
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[1]["definition"]["sections"][0]["items"][0]["max_score"] == "10"
    assert versions[0]["definition"]["sections"][0]["items"][0]["max_score"] == "12.5"
    assert Decimal(versions[0]["max_score"]) == Decimal("12.5")


async def test_a_bad_checklist_is_refused_with_its_place(tmp_path: Path, maintenance: None) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MANIFEST.format(code="t-bad", title="坏表", score=0), encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        await apply_path(path)
    assert any("checklists[0]" in p and "p1" in p for p in caught.value.problems)
    owned = tmp_path / "r.toml"
    owned.write_text(
        MANIFEST.format(code="t-bad", title="坏表", score=5).replace('"d4"', '"r63"'),
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as caught:
        await apply_path(owned)
    assert any("belong to a division" in p for p in caught.value.problems)
