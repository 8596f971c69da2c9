"""The loader and the services against the database: shipped data, regional subtrees, hook."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest

from app import db
from app.accounts import queries as accounts
from app.calendar import queries, services
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope
from app.web.errors import NotFound
from tests import reliability
from tests.calendar.helpers import D4_HOURS, local


async def scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


async def test_loader_serves_the_shipped_2026_calendar() -> None:
    scope = await scope_of("xa-clerk", "xa")
    cal = await services.load(scope, scope.own())
    assert cal.days.is_working_day(date(2026, 2, 14))
    assert not cal.days.is_working_day(date(2026, 2, 15))
    assert cal.days.is_working_day(date(2026, 10, 10))
    assert not cal.is_provisional(date(2025, 6, 1))
    assert cal.is_provisional(date(2028, 6, 1))
    due = await services.due_at(scope, scope.own(), local(2026, 2, 13, 10), 3)
    assert (due.at, due.provisional) == (local(2026, 2, 24, 14), False)
    assert await services.between(scope, scope.own(), local(2026, 2, 13, 10), due.at) == 3
    assert await services.in_service(scope, scope.own(), local(2026, 2, 14, 11))
    assert await services.next_session_start(scope, scope.own(), local(2026, 2, 13, 20)) == local(
        2026, 2, 14, 10
    )
    assert await services.is_provisional(scope, date(2028, 1, 1))


async def test_loader_refuses_a_tenant_outside_the_scope() -> None:
    scope = await scope_of("xa-clerk", "xa")
    tree = await tenancy.tree()
    with pytest.raises(NotFound):
        await services.load(scope, tree.by_slug["xb"].id)


def _monday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


@pytest.fixture(scope="module")
def second_division() -> dict[str, int]:
    """A second division with a regiment under it, created through the system scope."""
    import asyncio

    async def create() -> dict[str, int]:
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="test: second division")
        slug = f"dz{secrets.token_hex(3)}"
        async with db.write(scope):
            division = await tenancy.create_tenant(
                scope, slug=slug, name="测试第二师", kind="division", hours=D4_HOURS
            )
            regiment = await tenancy.create_tenant(
                scope,
                slug=f"{slug}-r",
                name="测试第二师某团",
                kind="regiment",
                parent=division,
                hours=D4_HOURS,
            )
        return {"division": division, "regiment": regiment}

    return asyncio.run(create())


async def test_regional_days_apply_to_their_division_subtree_only(
    second_division: dict[str, int],
) -> None:
    tree = await tenancy.tree()
    system = system_scope(tree, reason="test: regional days")
    d4, dz = tree.by_slug["d4"].id, second_division["division"]
    d4_day, dz_day = _monday(2087, 3), _monday(2087, 4)
    d4_work = _monday(2087, 5) - timedelta(days=2)  # a Saturday
    async with db.write(system):
        await queries.upsert_regional_day(system, d4, d4_day, "off", "肉孜节（测试）")
        await queries.upsert_regional_day(system, d4, d4_work, "work", "调休上班（测试）")
        await queries.upsert_regional_day(system, dz, dz_day, "off", "古尔邦节（测试）")
    try:
        inside = {
            "d4 itself": await services.load(await scope_of("d4-liuhong", "d4"), d4),
            "r63": await services.load(
                await scope_of("r63-zhoujianguo", "r63"), tree.by_slug["r63"].id
            ),
            "xa": await services.load(await scope_of("xa-clerk", "xa"), tree.by_slug["xa"].id),
        }
        outside = {
            "second division": await services.load(system, dz),
            "its regiment": await services.load(system, second_division["regiment"]),
        }
        every_day = [date(2087, 1, 1) + timedelta(days=i) for i in range(365)]
        for name, cal in inside.items():
            for day in every_day:
                expected = (day.weekday() < 5 and day != d4_day) or day == d4_work
                assert cal.days.is_working_day(day) is expected, (name, day)
        for name, cal in outside.items():
            for day in every_day:
                expected = day.weekday() < 5 and day != dz_day
                assert cal.days.is_working_day(day) is expected, (name, day)
        # A regiment's clerk reads its division's regional days, never another division's.
        xa = await scope_of("xa-clerk", "xa")
        assert await queries.regional_days(xa, [dz], 2087) == []
        assert [r["day"] for r in await queries.regional_days(xa, [d4], 2087)] == sorted(
            [d4_day, d4_work]
        )
    finally:
        async with db.write(system):
            for owner, day in ((d4, d4_day), (d4, d4_work), (dz, dz_day)):
                await queries.delete_regional_days(system, owner, day, day)


async def test_regional_writes_need_the_divisions_own_scope() -> None:
    tree = await tenancy.tree()
    supervisor_at_r63 = await scope_of("d4-liuhong", "r63")  # reads the subtree, owns nothing
    with pytest.raises(NotFound):
        async with db.write(supervisor_at_r63):
            await queries.upsert_regional_day(
                supervisor_at_r63, tree.by_slug["d4"].id, date(2087, 6, 2), "off", "x"
            )


async def test_calendar_changed_calls_listeners_and_survives_a_failing_one() -> None:
    calls: list[tuple[frozenset[int], date]] = []

    async def listener(tenant_ids: frozenset[int], from_date: date) -> None:
        calls.append((tenant_ids, from_date))

    async def broken(tenant_ids: frozenset[int], from_date: date) -> None:
        raise RuntimeError("listener down")

    services.on_calendar_change(broken)
    services.on_calendar_change(listener)
    reliability.record("faults")
    try:
        await services.calendar_changed([3, 1], date(2087, 1, 1))
        await services.calendar_changed([], date(2087, 1, 1))  # nobody affected: no call
    finally:
        services.remove_listener(broken)
        services.remove_listener(listener)
    expected = [(frozenset({1, 3}), date(2087, 1, 1))]
    reliability.record("records_lost", len([c for c in expected if c not in calls]))
    assert calls == expected
