"""Login, lockout per account and address, sessions, passwords and links."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from app.accounts import queries
from app.accounts.bootstrap import reset_link
from app.accounts.sessions import COOKIE, digest
from tests import reliability
from tests.conftest import PASSWORD, csrf_of, login


def _post_login(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"csrf_token": csrf_of(client), "username": username, "password": password},
    )


def _client(app, ip: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, follow_redirects=False, client=(ip, 50000))


def test_one_message_for_unknown_user_and_wrong_password(client: TestClient) -> None:
    unknown = _post_login(client, "nobody-here", "whatever123")
    wrong = _post_login(client, "r68-liguohua", "whatever123")
    assert unknown.status_code == wrong.status_code == 422
    assert "Wrong username or password." in unknown.text or "用户名或密码错误" in unknown.text

    def message(text: str) -> str:
        return text.split('role="alert">', 1)[1].split("<", 1)[0]

    assert message(unknown.text) == message(wrong.text)
    assert 'value="r68-liguohua"' in wrong.text  # what the user typed is kept
    assert PASSWORD not in wrong.text and "whatever123" not in wrong.text


def test_lockout_is_per_account_and_address_and_a_manager_unlocks(app) -> None:  # type: ignore[no-untyped-def]
    victim = "c-huacheng-wujing"
    with _client(app, "10.9.9.1") as stranger:
        for _ in range(5):
            assert _post_login(stranger, victim, "bad-guess-1").status_code == 422
        locked = _post_login(stranger, victim, PASSWORD)
        assert locked.status_code == 422
        assert "30" in locked.text  # tells how long
    with _client(app, "10.9.9.2") as colleague:
        assert _post_login(colleague, victim, PASSWORD).status_code == 303
    with _client(app, "10.9.9.3") as manager:
        # The community's manager is the victim here; r63's manager cannot unlock them.
        token = login(manager, "r63-zhoujianguo")
        members = asyncio.run(_members_of("c-huacheng"))
        member_id = members[victim]
        refused = manager.post(
            f"/t/c-huacheng/staff/{member_id}/unlock", data={"csrf_token": token}
        )
        assert refused.status_code == 404
    with _client(app, "10.9.9.4") as admin:
        token = login(admin, "admin")
        page = admin.get("/t/c-huacheng/staff")
        assert "Locked out" in page.text or "已锁定" in page.text
        done = admin.post(f"/t/c-huacheng/staff/{member_id}/unlock", data={"csrf_token": token})
        assert done.status_code == 200
    with _client(app, "10.9.9.1") as stranger:
        assert _post_login(stranger, victim, PASSWORD).status_code == 303


async def _members_of(slug: str) -> dict[str, int]:
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    rows = await queries.members(scope, tree.by_slug[slug].id)
    return {r["username"]: r["id"] for r in rows}


def test_logout_revokes_the_session(client: TestClient) -> None:
    token = login(client, "r68-liguohua")
    cookie = client.cookies.get(COOKIE)
    assert client.get("/t/r68/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert asyncio.run(queries.session_with_user(digest(cookie))) is None
    client.cookies.set(COOKIE, cookie)  # replaying the old cookie does not help
    assert client.get("/t/r68/").status_code == 303


def test_password_change_revokes_other_sessions(app) -> None:  # type: ignore[no-untyped-def]
    user = "xa-clerk"
    with _client(app, "10.1.0.1") as first, _client(app, "10.1.0.2") as second:
        login(first, user)
        token = login(second, user)
        changed = second.post(
            "/password",
            data={
                "csrf_token": token,
                "current": PASSWORD,
                "new": "new-pass-456",
                "confirm": "new-pass-456",
            },
        )
        assert changed.status_code == 200
        assert first.get("/t/xa/").status_code == 303  # other session revoked
        assert second.get("/t/xa/").status_code == 200  # this one rotated, still in
        token = csrf_of(second)
        second.post(
            "/password",
            data={
                "csrf_token": token,
                "current": "new-pass-456",
                "new": PASSWORD,
                "confirm": PASSWORD,
            },
        )


def test_weak_password_is_refused_and_kept_out_of_the_page(client: TestClient) -> None:
    token = login(client, "xa-clerk")
    response = client.post(
        "/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "short", "confirm": "short"},
    )
    assert response.status_code == 422
    assert "8" in response.text
    assert 'value="short"' not in response.text


def test_idle_session_expires(client: TestClient) -> None:
    login(client, "r68-liguohua")
    cookie = client.cookies.get(COOKIE)
    old = datetime.now(UTC) - timedelta(minutes=31)
    asyncio.run(_age_session(digest(cookie), old))
    assert client.get("/t/r68/").status_code == 303


async def _age_session(token_hash: str, when: datetime) -> None:
    row = await queries.session_with_user(token_hash)
    assert row is not None
    await queries.touch_session(row["id"], when)


def test_set_password_link_works_once(client: TestClient) -> None:
    link = asyncio.run(reset_link("xb-clerk"))
    path = link.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    token = csrf_of(client)
    done = client.post(path, data={"csrf_token": token, "new": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 200
    again = client.post(path, data={"csrf_token": token, "new": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 404
    assert client.get("/password/set/not-a-real-token").status_code == 404


def test_deactivation_revokes_sessions_and_blocks_login(app) -> None:  # type: ignore[no-untyped-def]
    with _client(app, "10.2.0.1") as staff, _client(app, "10.2.0.2") as manager:
        token = manager_token = login(manager, "xa-manager")
        login(staff, "xa-clerk")
        members = asyncio.run(_members_of("xa"))
        member = members["xa-clerk"]
        off = manager.post(f"/t/xa/staff/{member}/deactivate", data={"csrf_token": token})
        assert off.status_code == 200
        assert staff.get("/t/xa/").status_code in (303, 404)
        assert _post_login(staff, "xa-clerk", PASSWORD).status_code == 303  # user still exists
        assert staff.get("/t/xa/").status_code == 404  # but has no active membership
        on = manager.post(f"/t/xa/staff/{member}/activate", data={"csrf_token": manager_token})
        assert on.status_code == 200
        assert staff.get("/t/xa/").status_code == 200


def test_manager_adds_staff_and_gets_a_link(client: TestClient) -> None:
    token = login(client, "xa-manager")
    response = client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "xa-newclerk",
            "display_name": "新窗口人员",
            "title": "窗口人员",
            "roles": ["clerk"],
            "departments": [],
        },
    )
    assert response.status_code == 200, response.text[:400]
    assert "/password/set/" in response.text
    duplicate = client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "xa-newclerk",
            "display_name": "重复",
            "roles": ["clerk"],
        },
    )
    assert duplicate.status_code == 422
    assert 'value="重复"' in duplicate.text  # the input is kept
    bad = client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "Bad Name!",
            "display_name": "某",
            "roles": ["supervisor"],
        },
    )
    assert bad.status_code == 422


def test_clerk_cannot_manage_staff(client: TestClient) -> None:
    token = login(client, "r63-guzailinuer")
    assert client.get("/t/r63/staff").status_code == 403
    denied = client.post(
        "/t/r63/staff",
        data={
            "csrf_token": token,
            "username": "r63-sneaky",
            "display_name": "某",
            "roles": ["manager"],
        },
    )
    assert denied.status_code == 403


def test_audit_log_records_logins_and_staff_changes(client: TestClient) -> None:
    token = login(client, "xa-manager")
    client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "xa-audited",
            "display_name": "审计",
            "roles": ["clerk"],
        },
    )
    page = client.get("/t/xa/audit")
    assert page.status_code == 200
    assert "xa-audited" in page.text
    entries = asyncio.run(_audit(None))
    actions = {(e["action"], e["actor_name"]) for e in entries}
    assert ("login", "xa-manager") in actions
    assert any(a == "login.failed" for a, _ in actions)


async def _audit(tenant_id: int | None) -> list[dict]:
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    scope = system_scope(await tenancy.tree(), reason="test")
    return await queries.audit_entries(scope, tenant_id, limit=500)


def test_a_manager_cannot_enrol_another_centres_account(client: TestClient) -> None:
    token = login(client, "xa-manager")
    response = client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "xb-manager",
            "display_name": "某",
            "roles": ["clerk"],
        },
    )
    assert reliability.cross_tenant(response, shows="CANARYB").status_code == 422
    assert "CANARYB" not in response.text
    members = asyncio.run(_members_of("xa"))
    assert "xb-manager" not in members


def test_the_platform_admin_links_an_existing_account_to_a_second_centre(
    client: TestClient,
) -> None:
    token = login(client, "admin")
    linked = client.post(
        "/t/xa/staff",
        data={
            "csrf_token": token,
            "username": "r68-liguohua",
            "display_name": "李国华",
            "roles": ["clerk"],
        },
    )
    assert linked.status_code == 200
    assert "/password/set/" not in linked.text  # the account already has its password
    assert "r68-liguohua" in asyncio.run(_members_of("xa"))
