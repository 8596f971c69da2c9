"""Material samples (样表): the supervisor uploads one (a new version), the owner division's
public guide serves it, and every centre's guide page links there."""

from __future__ import annotations

import asyncio
import html
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.accounts import queries as accounts
from app.catalogue import adoption, versions
from app.catalogue.content import validate
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, user_scope
from tests import reliability
from tests.conftest import login

PDF = b"%PDF-1.4\n% sample of the form\ntrailer << >>\n%%EOF\n"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


def make_item() -> tuple[str, int]:
    code = f"SMP-{secrets.token_hex(4).upper()}"
    content = validate(
        {
            "name": "临时救助申请",
            "department": "mzj",
            "power_type": "行政给付",
            "kind": "promised",
            "legal_halves": 20,
            "promised_halves": 10,
            "materials": [
                {"name": "居民身份证", "form": "original_and_copy", "copies": 1},
                {"name": "救助申请书", "form": "original", "copies": 1},
            ],
        }
    )

    async def go() -> int:
        scope = await _scope_of("d4-liuhong", "d4")
        return await versions.create(
            None, scope, code, content, adoption.today() - timedelta(days=1)
        )

    return code, run(go())


def all_versions(template_id: int) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        scope = await _scope_of("d4-liuhong", "d4")
        return await templates.versions(scope, template_id)

    return list(run(go()))


def adopt_at_r63(code: str) -> None:
    async def go() -> None:
        scope = await _scope_of("r63-zhoujianguo", "r63")
        entry = await adoption.item(scope, scope.own(), code)
        assert await adoption.adopt(None, scope, [entry]) == 1

    run(go())


def signed_in(app: Any, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client, login(client, username)


@pytest.fixture
def supervisor(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, "d4-liuhong")
    yield client, token
    client.__exit__(None, None, None)


def upload(client: TestClient, token: str, code: str, index: Any, name: str, data: bytes) -> Any:
    return client.post(
        f"/t/d4/catalogue/{code}/materials/{index}/sample",
        data={"csrf_token": token},
        files={"file": (name, data, "application/octet-stream")},
    )


def test_upload_makes_a_version_and_the_guides_serve_it(app, supervisor) -> None:
    client, token = supervisor
    code, template_id = make_item()
    response = upload(client, token, code, 1, "申请书样表.pdf", PDF)
    assert response.status_code == 303, response.text[:500]
    assert f"/t/d4/catalogue/{code}?done=sample" in response.headers["location"]
    found = all_versions(template_id)
    assert [v["number"] for v in found] == [2, 1]
    newest = found[0]
    assert newest["mandatory"] is False or newest["mandatory"] == 0
    assert "救助申请书" in newest["change_note"]
    materials = newest["content"]["materials"]
    assert materials[0]["sample_file_id"] is None
    file_id = materials[1]["sample_file_id"]
    assert isinstance(file_id, int)

    page = client.get(f"/t/d4/catalogue/{code}")
    assert page.status_code == 200
    assert f'href="/t/d4/files/{file_id}"' in page.text

    with TestClient(app, follow_redirects=False) as anonymous:
        served = anonymous.get(f"/t/d4/guide/{code}/sample/1")
        assert served.status_code == 200, served.text[:300]
        assert served.content == PDF
        assert served.headers["content-disposition"].startswith("attachment")
        assert served.headers["content-type"] == "application/pdf"
        assert "bm_session" not in served.cookies
        # no sample on material 0, an index past the end, junk, a centre's slug: 404
        assert anonymous.get(f"/t/d4/guide/{code}/sample/0").status_code == 404
        assert anonymous.get(f"/t/d4/guide/{code}/sample/9").status_code == 404
        assert anonymous.get(f"/t/d4/guide/{code}/sample/x").status_code == 404
        assert anonymous.get(f"/t/r63/guide/{code}/sample/1").status_code == 404

        adopt_at_r63(code)
        guide = anonymous.get(f"/t/r63/guide/{code}")
        assert guide.status_code == 200
        assert f'href="/t/d4/guide/{code}/sample/1"' in guide.text
        assert f'href="/t/d4/guide/{code}/sample/0"' not in guide.text
        assert anonymous.get(f"/t/r63/guide/{code}/sample/1").status_code == 404

    # A centre's staff reading the division's catalogue get the division's public address.
    other, _token = signed_in(app, "r63-zhoujianguo")
    try:
        item = other.get(f"/t/r63/catalogue/{code}")
        assert item.status_code == 200
        assert f'href="/t/d4/guide/{code}/sample/1"' in item.text
    finally:
        other.__exit__(None, None, None)

    removed = client.post(
        f"/t/d4/catalogue/{code}/materials/1/sample/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    found = all_versions(template_id)
    assert found[0]["number"] == 3
    assert found[0]["content"]["materials"][1]["sample_file_id"] is None


def test_refused_type_shows_the_message_and_makes_no_version(supervisor) -> None:
    client, token = supervisor
    code, template_id = make_item()
    html_page = b"<html><body>hello</body></html>"
    response = reliability.hostile(
        upload, client, token, code, 0, "form.html", html_page, uploads=1
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "PDF" in text and 'aria-invalid="true"' in text
    assert [v["number"] for v in all_versions(template_id)] == [1]
    empty = reliability.hostile(upload, client, token, code, 0, "", b"", uploads=1)
    assert empty.status_code == 422
    assert [v["number"] for v in all_versions(template_id)] == [1]


def test_unknown_index_is_404(supervisor) -> None:
    client, token = supervisor
    code, template_id = make_item()
    for index in ("2", "99", "-1", "x"):
        assert upload(client, token, code, index, "a.pdf", PDF).status_code == 404, index
    remove = client.post(
        f"/t/d4/catalogue/{code}/materials/5/sample/remove", data={"csrf_token": token}
    )
    assert remove.status_code == 404
    assert [v["number"] for v in all_versions(template_id)] == [1]


@pytest.mark.parametrize(
    ("username", "slug"), [("xa-clerk", "xa"), ("xa-manager", "xa"), ("r63-zhoujianguo", "r63")]
)
def test_clerks_and_managers_cannot_upload(app, username: str, slug: str) -> None:
    code, template_id = make_item()
    client, token = signed_in(app, username)
    try:
        response = client.post(
            f"/t/{slug}/catalogue/{code}/materials/0/sample",
            data={"csrf_token": token},
            files={"file": ("a.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 403, response.status_code
        page = client.get(f"/t/{slug}/catalogue/{code}")
        assert "/materials/0/sample" not in page.text
    finally:
        client.__exit__(None, None, None)
    assert [v["number"] for v in all_versions(template_id)] == [1]
