"""The power list (权力清单): numbered, dated editions published by division supervisors.

A fresh division (with a regiment, a supervisor and a clerk) is created per module, so edition
numbers start at 1 whatever other tests publish for d4.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from app import db
from app.accounts import passwords
from app.accounts import queries as accounts
from app.catalogue import content, power_list, versions
from app.catalogue.queries import power_list as editions
from app.catalogue.queries import templates as tq
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, public_scope, system_scope
from tests.conftest import PASSWORD, csrf_of, login

TAG = secrets.token_hex(3)


@dataclass(frozen=True)
class Division:
    slug: str
    regiment: str
    supervisor: str
    clerk: str


def spec(name: str, **extra: object) -> content.ItemContent:
    return content.validate(
        {
            "name": name,
            "department": "mzj",
            "power_type": "行政确认",
            "kind": "promised",
            "legal_halves": 20,
            "promised_halves": 10,
            "legal_basis": "《社会救助暂行办法》",
            "implementing_body": "民政局",
            **extra,
        }
    )


async def supervisor_scope(div: Division) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(div.supervisor)
    assert user is not None
    node = tree.by_slug[div.slug]
    scope = for_user(tree, node.id, user["id"], {node.id: frozenset({"supervisor"})}, False)
    assert scope is not None
    return scope


async def _division() -> Division:
    tree = await tenancy.tree()
    div = Division(f"pl-{TAG}", f"pl-{TAG}-r", f"pl-{TAG}-sup", f"pl-{TAG}-clerk")
    scope = system_scope(tree, reason="test")
    async with db.write(scope):
        div_id = await tenancy.create_tenant(
            scope, slug=div.slug, name=f"测试师{TAG}", kind="division", status="active"
        )
        scope = scope.with_tenant(div_id)
        reg_id = await tenancy.create_tenant(
            scope, slug=div.regiment, name=f"测试团{TAG}", kind="regiment", parent=div_id
        )
        scope = scope.with_tenant(reg_id)
        await db.set_scope(scope)  # the new tenants are in the RLS settings too
        await tenancy.upsert_department(
            scope, div_id, "mzj", name="民政局", short_name="民政局", sort=1
        )
        hashed = passwords.hash_password(PASSWORD)
        for username, roles in ((div.supervisor, {"supervisor"}), (div.clerk, {"clerk"})):
            user_id = await accounts.create_user(username, f"测试{username}")
            await accounts.update_user(user_id, password_hash=hashed)
            await accounts.add_membership(scope, div_id, user_id, roles)
    sup = await supervisor_scope(div)
    for n in (1, 2, 3):
        await versions.create(None, sup, f"PL{TAG}-{n}", spec(f"权力事项{n}"), date(2020, 1, 1))
    # Not in force yet: never in an edition published today.
    await versions.create(
        None, sup, f"PL{TAG}-9", spec("明年的事项"), date.today() + timedelta(days=400)
    )
    return div


@pytest.fixture(scope="module")
def div() -> Division:
    return asyncio.run(_division())


def publish(client: TestClient, slug: str) -> object:
    return client.post(f"/t/{slug}/power-list/publish", data={"csrf_token": csrf_of(client)})


def test_compare_added_removed_changed() -> None:
    old = [
        {"code": "A", "name": "甲", "power_type": "行政许可", "legal_basis": "x"},
        {"code": "B", "name": "乙", "power_type": "行政许可", "legal_basis": "y"},
    ]
    new = [
        {"code": "B", "name": "乙", "power_type": "行政确认", "legal_basis": "z"},
        {"code": "C", "name": "丙", "power_type": "公共服务", "legal_basis": ""},
    ]
    diff = power_list.compare(old, new)
    assert [e["code"] for e in diff["added"]] == ["C"]
    assert [e["code"] for e in diff["removed"]] == ["A"]
    assert [(c["code"], [f["field"] for f in c["fields"]]) for c in diff["changed"]] == [
        ("B", ["power_type", "legal_basis"])
    ]
    assert diff["any"]
    assert not power_list.compare(new, new)["any"]
    first = power_list.compare(None, new)
    assert len(first["added"]) == 2 and not first["removed"]


def test_nothing_published_yet(client: TestClient, div: Division) -> None:
    page = client.get(f"/t/{div.slug}/power-list")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert 'class="empty"' in page.text and "power-list/publish" not in page.text
    assert client.get(f"/t/{div.regiment}/power-list").status_code == 200


def test_publish_numbers_dates_and_diffs(client: TestClient, div: Division) -> None:
    login(client, div.supervisor)
    page = client.get(f"/t/{div.slug}/power-list")
    assert f'action="/t/{div.slug}/power-list/publish"' in page.text  # the supervisor's form

    first = publish(client, div.slug)
    assert first.status_code == 303
    assert first.headers["location"] == f"/t/{div.slug}/power-list?published=1"
    shown = client.get(first.headers["location"]).text
    assert "alert ok" in shown and "权力事项1" in shown and "明年的事项" not in shown

    again = publish(client, div.slug)
    assert again.status_code == 422
    assert "alert error" in again.text

    async def change() -> None:
        sup = await supervisor_scope(div)
        t1 = await tq.template_by_code(sup, f"PL{TAG}-1")
        t2 = await tq.template_by_code(sup, f"PL{TAG}-2")
        assert t1 is not None and t2 is not None
        revised = spec("权力事项1", implementing_body="第四师民政局", power_type="行政许可")
        await versions.revise(None, sup, t1["id"], revised, date(2020, 6, 1), False)
        # a revision that is not in force yet changes nothing in today's edition
        later = spec("权力事项2（新名称）")
        await versions.revise(None, sup, t2["id"], later, date.today() + timedelta(days=400), False)
        await versions.create(None, sup, f"PL{TAG}-4", spec("权力事项4"), date(2020, 1, 1))
        t3 = await tq.template_by_code(sup, f"PL{TAG}-3")
        assert t3 is not None
        async with db.write(sup):  # retired: out of the next edition
            await tq.set_retired(sup, t3["id"], datetime.now(UTC), "")

    asyncio.run(change())
    second = publish(client, div.slug)
    assert second.status_code == 303
    assert second.headers["location"].endswith("?published=2")

    async def stored() -> tuple[dict, dict]:
        scope = public_scope(await tenancy.tree(), (await tenancy.tree()).by_slug[div.slug].id)
        node_id = scope.own()
        one, two = (
            await editions.edition(scope, node_id, 1),
            await editions.edition(scope, node_id, 2),
        )
        assert one is not None and two is not None
        return one, two

    one, two = asyncio.run(stored())
    assert one["published_on"] == two["published_on"]
    assert [e["code"] for e in one["entries"]] == [f"PL{TAG}-{n}" for n in (1, 2, 3)]
    assert [e["code"] for e in two["entries"]] == [f"PL{TAG}-{n}" for n in (1, 2, 4)]
    diff = power_list.compare(one["entries"], two["entries"])
    assert [e["code"] for e in diff["added"]] == [f"PL{TAG}-4"]
    assert [e["code"] for e in diff["removed"]] == [f"PL{TAG}-3"]
    assert [(c["code"], {f["field"] for f in c["fields"]}) for c in diff["changed"]] == [
        (f"PL{TAG}-1", {"power_type", "implementing_body"})
    ]

    # The public pages (anonymous): newest with its diff; the older one by number.
    client.cookies.clear()
    newest = client.get(f"/t/{div.slug}/power-list")
    assert newest.status_code == 200 and "set-cookie" not in newest.headers
    text = newest.text
    assert "权力事项4" in text and "第四师民政局" in text
    assert re.search(r'class="diff added">.*权力事项4', text, re.S)
    assert re.search(r'class="diff removed">.*权力事项3', text, re.S)
    assert re.search(r'class="diff changed">.*权力事项1.*<del>民政局</del>', text, re.S)
    assert f'href="/t/{div.slug}/power-list/1"' in text
    older = client.get(f"/t/{div.slug}/power-list/1")
    assert older.status_code == 200
    assert "权力事项3" in older.text and "权力事项4" not in older.text
    assert f'href="/t/{div.slug}/power-list"' in older.text  # to the newest
    # A regiment shows its division's list.
    regiment = client.get(f"/t/{div.regiment}/power-list")
    assert regiment.status_code == 200 and "权力事项4" in regiment.text
    assert "power-list/publish" not in regiment.text
    fragment = client.get(f"/t/{div.regiment}/power-list/2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    for missing in ("3", "0", "abc", "99999999999", "publish"):
        assert client.get(f"/t/{div.slug}/power-list/{missing}").status_code == 404, missing


def test_clerk_cannot_publish(client: TestClient, div: Division) -> None:
    login(client, div.clerk)
    page = client.get(f"/t/{div.slug}/power-list")
    assert "power-list/publish" not in page.text
    assert publish(client, div.slug).status_code == 403


def test_publishing_needs_login_and_the_division(client: TestClient, div: Division) -> None:
    # Anonymous, with a valid CSRF token of an anonymous session: sent to log in.
    response = publish(client, div.slug)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # A supervisor at a regiment (inherited role) does not publish the regiment's "list".
    login(client, div.supervisor)
    assert publish(client, div.regiment).status_code in (403, 404)
    # Another division's supervisor cannot publish this one's.
    client.cookies.clear()
    login(client, "d4-liuhong")
    assert publish(client, div.slug).status_code == 404


def test_empty_catalogue_is_refused(client: TestClient) -> None:
    async def lone_division() -> tuple[TenantScope, object]:
        tree = await tenancy.tree()
        scope = system_scope(tree, reason="test")
        slug = f"pl-empty-{secrets.token_hex(3)}"
        async with db.write(scope):
            await tenancy.create_tenant(scope, slug=slug, name="空师", kind="division")
        tree = await tenancy.tree()
        node = tree.by_slug[slug]
        user = await accounts.user_by_username("d4-liuhong")
        assert user is not None
        sup = for_user(tree, node.id, user["id"], {node.id: frozenset({"supervisor"})}, False)
        assert sup is not None
        return sup, node

    sup, node = asyncio.run(lone_division())
    with pytest.raises(power_list.PowerListError):
        asyncio.run(power_list.publish(None, sup, node, date.today()))  # type: ignore[arg-type]
