"""Calendar data in manifests: validated, upserted idempotently, never deleted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from app import db
from app.calendar import queries, services
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.apply import apply_path
from app.tenancy.manifests import ManifestError
from app.tenancy.scope import system_scope

NATIONAL = """
[calendar_year]
year = 2088
notice = "测试通知（2087-11-01）"

[[national_days]]
date = 2088-01-01
kind = "off"
name = "元旦"

[[national_days]]
date = 2088-01-24
until = 2088-01-30
kind = "off"
name = "春节"

[[national_days]]
date = 2088-01-31
kind = "work"
name = "春节调休上班"
"""

REGIONAL = """
[[regional_days]]
division = "d4"
date = 2088-03-02
until = 2088-03-03
kind = "off"
name = "肉孜节（测试）"
"""


@pytest.fixture
async def maintenance() -> AsyncIterator[None]:
    db.use_url(settings.maintenance_database_url)
    try:
        yield
    finally:
        db.use_url(settings.database_url)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def test_calendar_manifests_apply_once_then_change_nothing(
    tmp_path: Path, maintenance
) -> None:  # type: ignore[no-untyped-def]
    folder = write(tmp_path, {"calendar-2088.toml": NATIONAL, "regional-2088.toml": REGIONAL})
    calls: list[tuple[frozenset[int], date]] = []

    async def listener(tenant_ids: frozenset[int], from_date: date) -> None:
        calls.append((tenant_ids, from_date))

    services.on_calendar_change(listener)
    try:
        first = await apply_path(folder)
        second = await apply_path(folder)
    finally:
        services.remove_listener(listener)
    assert first.counts["national_day.created"] == 9
    assert first.counts["calendar_year.created"] == 1
    assert first.counts["regional_day.created"] == 2
    assert "created national_day 2088-01-27" in first.changed
    assert "created regional_day d4/2088-03-03" in first.changed
    assert "national_day: 9 created" in first.summary()
    assert not second.has_changes and second.summary().startswith("No changes")

    tree = await tenancy.tree()
    d4 = tree.by_slug["d4"].id
    assert (frozenset(tree.nodes), date(2088, 1, 1)) in calls
    assert (frozenset(tree.subtree(d4)), date(2088, 3, 2)) in calls
    assert len(calls) == 2  # the second apply changed nothing

    scope = system_scope(tree, reason="test")
    cal = await services.load(scope, tree.by_slug["r63"].id)
    assert not cal.days.is_working_day(date(2088, 1, 27))
    assert cal.days.is_working_day(date(2088, 1, 31))
    assert not cal.days.is_working_day(date(2088, 3, 2))
    assert not cal.is_provisional(date(2088, 6, 1))

    # Apply never deletes: a day dropped from the file stays; a changed name is updated.
    write(
        tmp_path,
        {
            "regional-2088.toml": REGIONAL.replace("until = 2088-03-03\n", "").replace(
                "（测试）", ""
            )
        },
    )
    third = await apply_path(folder)
    assert third.changed == ["updated regional_day d4/2088-03-02"]
    rows = await queries.regional_days(scope, [d4], 2088)
    assert [(r["day"], r["name"]) for r in rows] == [
        (date(2088, 3, 2), "肉孜节"),
        (date(2088, 3, 3), "肉孜节（测试）"),
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.toml": '[[national_days]]\ndate = 2088-02-02\nkind = "work"\nname = "调休"\n'},
            "national_days[0]: Value error, 2088-02-02 is a weekday",
        ),
        (
            {
                "a.toml": "[[national_days]]\ndate = 2088-02-05\nuntil = 2088-02-01\n"
                'kind = "off"\nname = "春节"\n'
            },
            "until must be on or after date",
        ),
        (
            {"a.toml": '[[national_days]]\ndate = 2088-02-05\nkind = "holiday"\nname = "x"\n'},
            "national_days[0].kind",
        ),
        (
            {
                "a.toml": '[[national_days]]\ndate = 2088-02-05\nkind = "off"\nname = "x"\n',
                "b.toml": "[[national_days]]\ndate = 2088-02-01\nuntil = 2088-02-06\n"
                'kind = "off"\nname = "y"\n',
            },
            "b.toml: national_days[0]: 2088-02-05 is also listed in",
        ),
        (
            {"a.toml": '[calendar_year]\nyear = 2088\nnotice = "某通知"\n'},
            "national_days: a published year lists its national days",
        ),
        (
            {
                "a.toml": '[calendar_year]\nyear = 2089\nnotice = "某通知"\n'
                '[[national_days]]\ndate = 2088-02-05\nkind = "off"\nname = "x"\n'
            },
            "national_days[0].date: not in 2089",
        ),
        (
            {"a.toml": '[[regional_days]]\ndate = 2088-02-05\nkind = "off"\nname = "x"\n'},
            "regional_days[0].division: required without [tenant]",
        ),
        (
            {
                "a.toml": '[[regional_days]]\ndivision = "r63"\ndate = 2088-02-05\n'
                'kind = "off"\nname = "x"\n'
            },
            "regional_days[0].division: 'r63' is not a known division",
        ),
    ],
)
async def test_bad_calendar_manifest_is_rejected(
    tmp_path: Path, maintenance, files: dict[str, str], expected: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ManifestError) as caught:
        await apply_path(write(tmp_path, files))
    assert any(expected in p for p in caught.value.problems), caught.value.problems
