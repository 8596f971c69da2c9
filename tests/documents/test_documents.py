"""A centre's documents: CRUD, validity of letters, the gap report, tenants, 422/409."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from starlette.testclient import TestClient

from app.documents import queries, services
from app.reports.periods import local_today
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests import reliability
from tests.cases.helpers import DIBAO, MARRIAGE, ensure_adopted, run
from tests.circulars.helpers import PDF
from tests.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _post(
    client: TestClient, url: str, token: str, data: dict[str, Any], file: bytes | None = PDF
) -> Any:
    files = {"file": ("授权书.pdf", file, "application/pdf")} if file is not None else None
    return client.post(url, data={"csrf_token": token, **data}, files=files)


def _doc_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:3000]
    found = re.search(r"/documents/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


def _departments() -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        tree = await tenancy.tree()
        return await tenancy.departments(system_scope(tree, reason="tests"))

    return list(run(go()))


def _adopted(slug: str) -> dict[int, dict[str, Any]]:
    async def go() -> dict[int, dict[str, Any]]:
        tree = await tenancy.tree()
        tid = tree.by_slug[slug].id
        found = await queries.adopted_departments(system_scope(tree, reason="tests"), [tid])
        return found.get(tid, {})

    return dict(run(go()))


def _gaps(slug: str, at: str = "d4") -> dict[str, list[int]]:
    async def go() -> dict[str, list[int]]:
        tree = await tenancy.tree()
        rows = await services.gaps(system_scope(tree, reason="tests"), tree, tree.by_slug[at].id)
        return {g.slug: [m["id"] for m in g.missing] for g in rows}

    return dict(run(go()))


def test_status_boundaries() -> None:
    today = date(2026, 6, 1)
    letter = {"kind": "authorisation", "retired_at": None, "valid_from": date(2026, 1, 1)}
    assert services.status({**letter, "valid_until": None}, today) == "valid"
    assert services.status({**letter, "valid_until": today + timedelta(days=31)}, today) == "valid"
    assert (
        services.status({**letter, "valid_until": today + timedelta(days=30)}, today) == "expiring"
    )
    assert services.status({**letter, "valid_until": today}, today) == "expiring"
    assert services.status({**letter, "valid_until": today - timedelta(days=1)}, today) == "expired"
    assert (
        services.status(
            {**letter, "valid_from": today + timedelta(days=1), "valid_until": None}, today
        )
        == "pending"
    )
    assert services.status({**letter, "valid_until": None, "retired_at": "x"}, today) == "retired"
    assert services.status({"kind": "rules", "retired_at": None}, today) == "valid"


def test_rules_compilation_crud_and_file(client: TestClient) -> None:
    token = login(client, "xa-manager")
    assert client.get("/t/xa/documents/new").status_code == 200
    doc_id = _doc_id(
        _post(
            client,
            "/t/xa/documents/new",
            token,
            {"kind": "rules", "title": "便民服务中心制度汇编", "edition": "2026版"},
        )
    )
    page = client.get(f"/t/xa/documents/{doc_id}")
    assert page.status_code == 200 and "2026版" in page.text
    got = client.get(f"/t/xa/documents/{doc_id}/file")
    assert got.status_code == 200 and got.content == PDF
    assert "便民服务中心制度汇编" in client.get("/t/xa/documents").text
    lock = re.search(r'name="lock_version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    # replace the file and the edition
    done = client.post(
        f"/t/xa/documents/{doc_id}",
        data={
            "csrf_token": token,
            "action": "save",
            "lock_version": lock,
            "title": "制度汇编",
            "edition": "2027版",
        },
        files={"file": ("new.png", PNG, "image/png")},
    )
    assert done.status_code == 303, done.text[:2000]
    assert client.get(f"/t/xa/documents/{doc_id}/file").content == PNG
    assert "2027版" in client.get(f"/t/xa/documents/{doc_id}").text
    # the old lock_version is stale now: 409 with the typed text kept
    stale = client.post(
        f"/t/xa/documents/{doc_id}",
        data={"csrf_token": token, "action": "save", "lock_version": lock, "title": "过期的编辑"},
    )
    assert stale.status_code == 409 and "过期的编辑" in stale.text
    # retire
    page = client.get(f"/t/xa/documents/{doc_id}").text
    lock = re.search(r'name="lock_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    retired = client.post(
        f"/t/xa/documents/{doc_id}",
        data={"csrf_token": token, "action": "retire", "lock_version": lock},
    )
    assert retired.status_code == 303
    page = client.get(f"/t/xa/documents/{doc_id}").text
    assert 'name="action" value="retire"' not in page


def test_422_keeps_input(client: TestClient) -> None:
    token = login(client, "xa-manager")
    bad = _post(
        client, "/t/xa/documents/new", token, {"kind": "rules", "title": "", "edition": "保留版次"}
    )
    assert bad.status_code == 422 and "保留版次" in bad.text
    bad = _post(
        client,
        "/t/xa/documents/new",
        token,
        {"kind": "authorisation", "granted_by": "保留的授权人", "valid_from": "2026-13-01"},
    )
    assert bad.status_code == 422 and "保留的授权人" in bad.text
    dept = _departments()[0]["id"]
    bad = _post(
        client,
        "/t/xa/documents/new",
        token,
        {
            "kind": "authorisation",
            "department": str(dept),
            "valid_from": "2026-05-01",
            "valid_until": "2026-04-01",
            "granted_by": "某局",
        },
    )
    assert bad.status_code == 422 and "某局" in bad.text
    bad = _post(
        client, "/t/xa/documents/new", token, {"kind": "rules", "title": "没有文件"}, file=None
    )
    assert bad.status_code == 422 and "没有文件" in bad.text
    bad = _post(
        client,
        "/t/xa/documents/new",
        token,
        {"kind": "rules", "title": "坏文件"},
        file=b"plain text",
    )
    assert bad.status_code == 422 and "坏文件" in bad.text


def test_who_may_do_what(client: TestClient) -> None:
    token = login(client, "xa-manager")
    doc_id = _doc_id(
        _post(client, "/t/xa/documents/new", token, {"kind": "rules", "title": "制度"})
    )
    client.cookies.clear()
    token = login(client, "d4-liuhong")  # a supervisor reads …
    assert client.get(f"/t/xa/documents/{doc_id}").status_code == 200
    assert client.get(f"/t/xa/documents/{doc_id}/file").status_code == 200
    assert client.get("/t/xa/documents/new").status_code == 403  # … but does not manage
    refused = client.post(
        f"/t/xa/documents/{doc_id}",
        data={"csrf_token": token, "action": "retire", "lock_version": "1"},
    )
    assert refused.status_code == 403
    assert client.get(f"/t/d4/documents/{doc_id}").status_code == 404  # not d4's document
    client.cookies.clear()
    token = login(client, "xb-manager")  # another centre: 404 everywhere
    for url in (f"/t/xb/documents/{doc_id}", f"/t/xb/documents/{doc_id}/file"):
        assert reliability.cross_tenant(client.get(url)).status_code == 404
    no = client.post(
        f"/t/xb/documents/{doc_id}",
        data={"csrf_token": token, "action": "retire", "lock_version": "1"},
    )
    assert reliability.cross_tenant(no).status_code == 404
    assert client.get("/t/xb/documents/gaps").status_code == 403  # not a supervisor


def test_letters_validity_and_gaps(client: TestClient) -> None:
    run(ensure_adopted("xb", DIBAO))
    run(ensure_adopted("xb", MARRIAGE))
    run(ensure_adopted("xb", "072001001000"))  # 不动产首次登记 (department bdc)
    adopted = _adopted("xb")
    assert len(adopted) >= 2, "xb adopts items of at least two departments"
    before = _gaps("xb")["xb"]
    token = login(client, "xb-manager")
    today = local_today()
    departments = sorted(adopted)
    first = departments[0]
    # an expired letter does not cover a department; a valid one does
    _doc_id(
        _post(
            client,
            "/t/xb/documents/new",
            token,
            {
                "kind": "authorisation",
                "department": str(first),
                "granted_by": "局长",
                "valid_from": str(today - timedelta(days=400)),
                "valid_until": str(today - timedelta(days=1)),
            },
        )
    )
    assert first in _gaps("xb")["xb"]
    listing = client.get("/t/xb/documents").text
    assert "status-expired" in listing
    valid_id = _doc_id(
        _post(
            client,
            "/t/xb/documents/new",
            token,
            {
                "kind": "authorisation",
                "department": str(first),
                "granted_by": "局长",
                "valid_from": str(today - timedelta(days=10)),
                "valid_until": str(today + timedelta(days=20)),
            },
        )
    )
    assert first not in _gaps("xb")["xb"]
    assert "status-expiring" in client.get("/t/xb/documents").text
    others = [d for d in before if d != first]
    assert sorted(_gaps("xb")["xb"]) == sorted(others)
    # the division's gap page lists xb with the departments still lacking
    client.cookies.clear()
    login(client, "d4-liuhong")
    page = client.get("/t/d4/documents/gaps")
    assert page.status_code == 200 and "CANARYB" in page.text
    for d in others:
        name = adopted[d]["name"]
        assert name in page.text
    # retiring the valid letter opens the gap again
    client.cookies.clear()
    token = login(client, "xb-manager")
    detail = client.get(f"/t/xb/documents/{valid_id}").text
    lock = re.search(r'name="lock_version" value="(\d+)"', detail).group(1)  # type: ignore[union-attr]
    assert (
        client.post(
            f"/t/xb/documents/{valid_id}",
            data={"csrf_token": token, "action": "retire", "lock_version": lock},
        ).status_code
        == 303
    )
    assert first in _gaps("xb")["xb"]
    # a regiment supervisor's gap report covers only its own subtree
    assert "xb" not in _gaps("zr", at="zr")
