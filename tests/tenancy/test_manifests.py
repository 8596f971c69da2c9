"""Manifests: idempotent upsert, precise rejection, nothing half-applied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.tenancy import queries
from app.tenancy.apply import apply_path
from app.tenancy.manifests import ManifestError
from tests import reliability
from tests.conftest import ROOT

HOURS = """
[tenant.hours.summer]
from = "05-01"
morning = ["09:30", "13:30"]
afternoon = ["16:00", "20:00"]
[tenant.hours.winter]
from = "10-01"
morning = ["10:00", "14:00"]
afternoon = ["15:30", "19:30"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_second_apply_changes_nothing_and_says_so() -> None:
    result = _cli("tenants", "apply", "tenants/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No changes"), result.stdout


async def test_apply_creates_then_is_idempotent(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "zc.toml",
        f"""
[tenant]
slug = "zc-new"
name = "测试社区便民服务中心"
kind = "community"
parent = "r63"
{HOURS}
[[staff]]
username = "zc-new-manager"
name = "测试主任"
roles = ["manager"]
departments = ["mzj"]

[[windows]]
code = "W01"
name = "1号窗口"
departments = ["mzj", "cl"]
a_post = "zc-new-manager"
""",
    )
    from app import db
    from app.settings import settings

    db.use_url(settings.maintenance_database_url)
    try:
        first = await apply_path(tmp_path)
        second = await apply_path(tmp_path)
    finally:
        db.use_url(settings.database_url)
    assert "created tenant zc-new" in first.changed
    assert any(c.startswith("created window zc-new/W01") for c in first.changed)
    assert not second.has_changes
    assert second.summary().startswith("No changes")
    tree = await queries.tree()
    node = tree.by_slug["zc-new"]
    assert tree.nodes[node.parent_id].slug == "r63"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[tenant]\nslug = "Bad Slug"\nname = "某中心"\nkind = "regiment"\nparent = "d4"\n'
            + HOURS,
            "tenant.slug",
        ),
        (
            '[tenant]\nslug = "zz-a"\nname = "某中心"\nkind = "town"\nparent = "d4"\n' + HOURS,
            "tenant.kind",
        ),
        (
            '[tenant]\nslug = "zz-b"\nname = "某中心"\nkind = "regiment"\nparent = "d4"\ncolour = 1\n'
            + HOURS,
            "tenant.colour",
        ),
        (
            '[tenant]\nslug = "zz-c"\nname = "某中心"\nkind = "regiment"\nparent = "d4"\n'
            + HOURS.replace('"09:30", "13:30"', '"13:30", "09:30"'),
            "tenant.hours.summer.morning",
        ),
        (
            '[tenant]\nslug = "zz-d"\nname = "某中心"\nkind = "regiment"\nparent = "d4"\n'
            + HOURS
            + '[[windows]]\ncode = "W01"\nname = "1号"\ndepartments = ["nope"]\n',
            "windows[0].departments[0]: unknown department 'nope'",
        ),
        (
            '[tenant]\nslug = "zz-e"\nname = "某中心"\nkind = "regiment"\nparent = "nowhere"\n'
            + HOURS,
            "tenant.parent: unknown centre 'nowhere'",
        ),
        (
            '[tenant]\nslug = "zz-f"\nname = "某中心"\nkind = "regiment"\nparent = "d4"\n'
            + HOURS
            + '[[staff]]\nusername = "zz-f-a"\nname = "甲"\nroles = ["boss"]\n',
            "staff[0].roles[0]",
        ),
        ("[tenant\nslug=", "not valid TOML"),
    ],
)
def test_bad_manifest_is_rejected_with_file_key_and_reason(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, "bad.toml", text)
    result = _cli("tenants", "apply", str(tmp_path))
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert expected in result.stderr, result.stderr
    assert "nothing was applied" in result.stderr


async def test_nothing_is_half_applied(tmp_path: Path) -> None:
    """A good file and a bad one: neither is applied."""
    _write(
        tmp_path,
        "a-good.toml",
        f'[tenant]\nslug = "zz-good"\nname = "好中心"\nkind = "regiment"\nparent = "d4"\n{HOURS}',
    )
    _write(
        tmp_path,
        "b-bad.toml",
        f'[tenant]\nslug = "zz-bad"\nname = "坏中心"\nkind = "community"\nparent = "zz-good"\n{HOURS}'
        '[[staff]]\nusername = "zz-bad-x"\nname = "某"\nroles = ["clerk"]\n'
        '[[windows]]\ncode = "W1"\nname = "1号"\ndepartments = ["mzj"]\na_post = "ghost"\n',
    )
    with pytest.raises(ManifestError) as info:
        await apply_path(tmp_path)
    assert any("windows[0].a_post" in p for p in info.value.problems)
    tree = await queries.tree()
    assert "zz-good" not in tree.by_slug
    assert "zz-bad" not in tree.by_slug


async def test_failure_during_apply_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in the middle of applying leaves no tenant behind."""
    _write(
        tmp_path,
        "zz.toml",
        f'[tenant]\nslug = "zz-roll"\nname = "回滚中心"\nkind = "regiment"\nparent = "d4"\n{HOURS}'
        '[[staff]]\nusername = "zz-roll-a"\nname = "某"\nroles = ["clerk"]\n',
    )
    from app.tenancy import apply as apply_module

    async def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply_module, "_staff", boom)
    from app import db
    from app.settings import settings

    db.use_url(settings.maintenance_database_url)
    try:
        with pytest.raises(RuntimeError):
            await apply_path(tmp_path)
    finally:
        db.use_url(settings.database_url)
    left = "zz-roll" in (await queries.tree()).by_slug
    reliability.record("faults")
    reliability.record("records_lost", int(left))  # a half-applied tenant
    assert not left


def test_cli_help_lists_the_commands() -> None:
    out = _cli("--help").stdout
    for command in (
        "serve",
        "migrate",
        "tenants apply PATH",
        "tenants list",
        "users create-admin",
        "users reset-link USERNAME",
    ):
        assert command in out


def test_tenants_list_shows_the_tree() -> None:
    out = _cli("tenants", "list").stdout
    assert "d4" in out and "六十三团便民服务中心" in out
    assert "\n  r63" in out  # indented under the division
