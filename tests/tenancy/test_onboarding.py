"""A platform admin onboards a centre in the browser: tenant, manager, set-password link."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.conftest import PASSWORD, csrf_of, login


def _form(token: str, **values: str) -> dict[str, str]:
    base = {
        "csrf_token": token,
        "parent_id": "",
        "kind": "regiment",
        "name": "六十六团便民服务中心",
        "slug": "r66",
        "status": "pilot",
        "manager_username": "r66-zhaolei",
        "manager_name": "赵磊",
    }
    base.update(values)
    return base


def _division_id(client: TestClient) -> str:
    page = client.get("/admin/tenants").text
    found = re.search(r'<option value="(\d+)">第四师行政服务中心', page)
    assert found, page[:1000]
    return found.group(1)


def test_admin_onboards_a_centre_and_its_manager_sets_a_password(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as admin:
        token = login(admin, "admin")
        division = _division_id(admin)
        created = admin.post("/admin/tenants", data=_form(token, parent_id=division))
        assert created.status_code == 200, created.text[:500]
        assert "/t/r66/" in created.text
        link = re.search(r'value="http://testserver(/password/set/[^"]+)"', created.text)
        assert link, created.text[:2000]
        assert admin.get("/t/r66/").status_code == 200
        again = admin.post("/admin/tenants", data=_form(token, parent_id=division))
        assert again.status_code == 422  # the short name is taken; the form is kept
        assert 'value="六十六团便民服务中心"' in again.text
        audit = admin.get("/t/r66/audit").text
        assert "r66-zhaolei" in audit
    with TestClient(app, follow_redirects=False) as manager:
        token = csrf_of(manager)
        saved = manager.post(
            link.group(1), data={"csrf_token": token, "new": PASSWORD, "confirm": PASSWORD}
        )
        assert saved.status_code == 200
        login(manager, "r66-zhaolei")
        home = manager.get("/t/r66/")
        assert home.status_code == 200 and "六十六团便民服务中心" in home.text
        assert manager.get("/t/r66/staff").status_code == 200
        assert manager.get("/t/r63/").status_code == 404


def test_onboarding_refuses_bad_input_without_losing_it(client: TestClient) -> None:
    token = login(client, "admin")
    division = _division_id(client)
    bad = client.post(
        "/admin/tenants",
        data=_form(token, parent_id=division, slug="Bad Slug", manager_username="x"),
    )
    assert bad.status_code == 422
    assert 'value="bad slug"' in bad.text and 'value="赵磊"' in bad.text
    wrong_parent = client.post(
        "/admin/tenants",
        data=_form(token, parent_id=division, kind="regiment", slug="r99", name="某团")
        | {"parent_id": _regiment_id(client)},
    )
    assert wrong_parent.status_code == 422


def _regiment_id(client: TestClient) -> str:
    page = client.get("/admin/tenants").text
    found = re.search(r'<option value="(\d+)">六十三团便民服务中心', page)
    assert found
    return found.group(1)


def test_only_platform_admins_onboard(client: TestClient) -> None:
    token = login(client, "d4-liuhong")
    assert client.get("/admin/tenants").status_code == 403
    assert client.post("/admin/tenants", data=_form(token, parent_id="1")).status_code == 403


def test_admin_suspends_a_centre(app) -> None:  # type: ignore[no-untyped-def]
    with (
        TestClient(app, follow_redirects=False) as admin,
        TestClient(app, follow_redirects=False) as clerk,
    ):
        token = login(admin, "admin")
        login(clerk, "c-huacheng-wujing")
        page = admin.get("/admin/tenants").text
        ids = re.findall(r'<a href="/t/c-huacheng/">.*?/admin/tenants/(\d+)/status', page, re.S)
        assert ids, page[:500]
        done = admin.post(
            f"/admin/tenants/{ids[0]}/status", data={"csrf_token": token, "status": "suspended"}
        )
        assert done.status_code == 303
        assert clerk.get("/t/c-huacheng/").status_code == 403
        admin.post(f"/admin/tenants/{ids[0]}/status", data={"csrf_token": token, "status": "pilot"})
        assert clerk.get("/t/c-huacheng/").status_code == 200
