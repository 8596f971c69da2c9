"""The division's catalogue seed (tenants/catalogue-*.toml): applied, valid, idempotent,
versioned on change; bad item manifests are rejected with file, key and reason."""

from __future__ import annotations

import re
import secrets
import tomllib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import db
from app.catalogue import content as rules
from app.catalogue.queries import templates as queries
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.apply import apply_path
from app.tenancy.manifests import ManifestError
from app.tenancy.scope import TenantScope, system_scope
from tests.conftest import ROOT

# The convenience-centre items the source article lists (便民事项引入大厅).
ARTICLE_ITEMS = [
    "最低生活保障（低保）申请",
    "高龄津贴申领",
    "医疗救助申请",
    "优抚对象补助（抚恤补助）",
    "优待金发放",
    "残疾人证核发",
    "残疾人就业年审",
    "就业创业证（就业失业登记证）办理",
    "职业技能培训申请",
    "职业介绍",
    "创业担保贷款申请",
    "不动产首次登记",
    "不动产转移登记",
    "不动产抵押登记",
    "土地勘测定界",
]
ARTICLE_DEPARTMENTS = ["fgw", "jsj", "jtj", "gtj", "slj", "nyj", "mzj", "rsj", "cl", "bdc"]


async def _system() -> TenantScope:
    return system_scope(await tenancy.tree(), reason="test")


async def _seeded() -> list[tuple[dict, dict]]:
    """(template, newest version) of every template the seed files list."""
    scope = await _system()
    d4 = (await tenancy.tree()).by_slug["d4"].id
    codes = set()
    for path in ROOT.glob("tenants/catalogue-*.toml"):
        codes |= {i["code"] for i in tomllib.loads(path.read_text("utf-8"))["items"]}
    rows = [r for r in await queries.templates(scope, [d4]) if r["code"] in codes]
    latest = await queries.latest_versions(scope, [r["id"] for r in rows])
    assert len(rows) == len(codes)
    return [(r, latest[r["id"]]) for r in rows]


@pytest.fixture
async def maintenance() -> AsyncIterator[None]:
    """Manifests are applied as the maintenance role (BYPASSRLS on PostgreSQL)."""
    db.use_url(settings.maintenance_database_url)
    try:
        yield
    finally:
        db.use_url(settings.database_url)


async def test_seed_has_the_articles_items_and_each_is_valid() -> None:
    seeded = await _seeded()
    assert len(seeded) >= 40
    names = [v["content"]["name"] for _t, v in seeded]
    for wanted in ARTICLE_ITEMS:
        assert any(name.startswith(wanted) for name in names), wanted
    by_department = Counter(t["department_code"] for t, _v in seeded)
    for code in ARTICLE_DEPARTMENTS:
        assert by_department[code] >= 1, code
    kinds = Counter(v["content"]["kind"] for _t, v in seeded)
    assert kinds["immediate"] >= 3 and kinds["joint"] >= 2 and kinds["escalated"] >= 2
    assert kinds["promised"] > len(seeded) / 2
    codes = [t["code"] for t, _v in seeded]
    assert len(set(codes)) == len(codes)
    for template, version in seeded:
        item = rules.validate(version["content"])  # the same rules as the editor and import
        assert item.model_dump() == version["content"]
        assert template["department_code"] == item.department
        assert item.promised_halves <= item.legal_halves
        assert re_code(template["code"]) and item.local_code.startswith(template["code"])
        assert item.legal_basis and item.implementing_body.startswith("第四师")
        assert item.supervising_phone.startswith("0999-") and item.result_document
        assert item.materials and all(m.name for m in item.materials)
        if item.kind == "immediate":
            assert item.promised_halves == 0
        if item.kind == "joint":
            assert item.joint_departments
        assert version["number"] == 1 or version["change_note"] == "manifest"
    limits = {v["content"]["name"]: v["content"] for _t, v in seeded}
    first = next(c for n, c in limits.items() if n.startswith("不动产首次登记"))
    assert (first["legal_halves"], first["promised_halves"]) == (60, 10)  # 30 and 5 days
    dibao = limits["最低生活保障（低保）申请"]
    assert (dibao["legal_halves"], dibao["promised_halves"]) == (60, 40)
    assert first["fees"] != "不收费" and "2559" in first["fee_basis"]


def re_code(code: str) -> bool:
    return re.fullmatch(r"\d{12}", code) is not None


async def test_second_apply_says_no_changes(maintenance: None) -> None:
    report = await apply_path(ROOT / "tenants")
    assert not report.has_changes, report.changed
    assert report.summary().startswith("No changes")
    assert report.counts["item.unchanged"] >= 40


def _catalogue_file(folder: Path, code: str, promised: int, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalogue-test.toml"
    path.write_text(
        f"""
division = "d4"

[[items]]
code = "{code}"
effective_from = 2017-06-01
name = "测试事项（种子）"
department = "mzj"
power_type = "行政给付"
kind = "promised"
legal_halves = 40
promised_halves = {promised}
conditions = "具有第四师户籍。"
materials = [{{ name = "申请表", form = "original" }}]
legal_basis = "《社会救助暂行办法》"
implementing_body = "第四师民政局"
{extra}
""",
        encoding="utf-8",
    )
    return path


async def test_a_changed_seed_creates_version_two(tmp_path: Path, maintenance: None) -> None:
    code = f"T{secrets.token_hex(5).upper()}"
    _catalogue_file(tmp_path, code, promised=20)
    first = await apply_path(tmp_path)
    assert f"created item d4/{code}" in first.changed
    again = await apply_path(tmp_path)
    assert not again.has_changes

    _catalogue_file(tmp_path, code, promised=10)
    changed = await apply_path(tmp_path)
    assert f"updated item d4/{code} (version 2)" in changed.changed
    assert not (await apply_path(tmp_path)).has_changes

    db.use_url(settings.database_url)
    scope = await _system()
    template = await queries.template_by_code(scope, code)
    assert template is not None and template["current_version"] == 2
    history = await queries.versions(scope, template["id"])
    assert [v["number"] for v in history] == [2, 1]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert history[1]["effective_from"] == date(2017, 6, 1)
    assert history[0]["effective_from"] == today and not history[0]["mandatory"]
    assert history[0]["content"]["promised_halves"] == 10
    assert history[1]["content"]["promised_halves"] == 20


@pytest.mark.parametrize(
    ("extra", "promised", "expected"),
    [
        ("", 50, "items[0].promised_halves: "),
        ('joint_departments = ["cl"]', 20, "items[0].joint_departments: "),
        ("channels = []", 20, "items[0].channels: "),
        ("colour = 1", 20, "items[0].colour: "),
    ],
)
async def test_bad_items_are_rejected(
    tmp_path: Path, maintenance: None, extra: str, promised: int, expected: str
) -> None:
    code = f"T{secrets.token_hex(5).upper()}"
    _catalogue_file(tmp_path, code, promised=promised, extra=extra)
    with pytest.raises(ManifestError) as caught:
        await apply_path(tmp_path)
    assert any(expected in p for p in caught.value.problems), caught.value.problems
    assert await queries.template_by_code(await _system(), code) is None


async def test_unknown_department_division_and_duplicate_code(
    tmp_path: Path, maintenance: None
) -> None:
    code = f"T{secrets.token_hex(5).upper()}"
    path = _catalogue_file(tmp_path, code, promised=20)
    text = path.read_text("utf-8")
    path.write_text(text.replace('department = "mzj"', 'department = "nope"'), "utf-8")
    (tmp_path / "catalogue-more.toml").write_text(
        text.replace('division = "d4"', 'division = "r63"'), "utf-8"
    )
    (tmp_path / "catalogue-dup.toml").write_text(text, "utf-8")
    (tmp_path / "catalogue-none.toml").write_text(text.replace('division = "d4"', ""), "utf-8")
    with pytest.raises(ManifestError) as caught:
        await apply_path(tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "catalogue-test.toml: items[0].department: unknown department 'nope'" in problems
    assert "catalogue-more.toml: division: 'r63' is not a known division" in problems
    assert f"items[0].code: '{code}' is also in" in problems
    assert "catalogue-none.toml: division: required for items without [tenant]" in problems
