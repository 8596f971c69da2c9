"""The public pages of a centre: service guide (search, filter, item page, print) and hall screen.

Items are created through ``versions.create`` under the division supervisor's scope, and
adopted by inserting adoption rows under each centre's own scope (``queries.public``), so
these tests do not depend on the adoption service.  Names carry a per-run tag so that items
other tests create in the same database do not disturb the assertions.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import db
from app.accounts import queries as accounts
from app.catalogue import content, versions
from app.catalogue.queries import public
from app.catalogue.queries import templates as tq
from app.settings import settings
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope
from tests import reliability
from tests.conftest import login

TAG = secrets.token_hex(3)


def item(name: str, department: str, **extra: Any) -> content.ItemContent:
    data: dict[str, Any] = {
        "name": name,
        "department": department,
        "power_type": "行政给付",
        "kind": "promised",
        "legal_halves": 20,
        "promised_halves": 10,
        **extra,
    }
    return content.validate(data)


LOW_INCOME = {
    "local_code": f"MZ-{TAG}",
    "conditions": "持有本地户籍；家庭人均收入低于当地最低生活保障标准。",
    "materials": [
        {"name": "居民身份证", "form": "original_and_copy", "copies": 1},
        {"name": "户口簿", "form": "copy", "copies": 2, "note": "全部成员页"},
        {
            "name": "残疾证",
            "form": "copy",
            "requirement": "conditional",
            "condition": "家庭成员中有残疾人的",
        },
    ],
    "fees": "不收费",
    "legal_basis": "《社会救助暂行办法》第九条",
    "implementing_body": "第四师民政局",
    "result_document": "最低生活保障证",
    "supervising_phone": "0999-8766012",
    "channels": ["window", "online"],
    "steps": [
        {"name": "受理", "actor": "窗口人员", "halves": 1},
        {"name": "审核", "actor": "民政局", "halves": 6},
        {"name": "审批", "actor": "分管领导", "halves": 3},
    ],
}


@dataclass(frozen=True)
class Catalogue:
    low_income: str  # adopted by xa (window, tighter limit), xb and not d4
    employment: str  # immediate; adopted by xa (no window) and d4
    only_xb: str  # adopted by xb only (its local note carries the canary)
    retired: str  # adopted by xa, then retired
    names: dict[str, str]


async def scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


async def adopt(username: str, slug: str, code: str, window: str | None = None, **kw: Any) -> None:
    scope = await scope_of(username, slug)
    template = await tq.template_by_code(scope, code)
    assert template is not None
    version = (await tq.latest_versions(scope, [template["id"]]))[template["id"]]
    window_id = None
    if window is not None:
        windows = await tenancy.windows(scope, scope.own())
        window_id = next(w["id"] for w in windows if w["code"] == window)
    await public.insert_adoption(scope, scope.own(), template["id"], version["id"], window_id, **kw)


async def _build() -> Catalogue:
    division = await scope_of("d4-liuhong", "d4")
    names = {
        "low_income": f"城乡最低生活保障申请{TAG}",
        "employment": f"就业失业登记证办理{TAG}",
        "only_xb": f"乙团特有事项{TAG}",
        "retired": f"已停办事项{TAG}",
    }
    codes = {key: f"P{TAG}-{n}" for n, key in enumerate(names, start=1)}
    specs = {
        "low_income": item(names["low_income"], "mzj", **LOW_INCOME),
        "employment": item(
            names["employment"],
            "rsj",
            kind="immediate",
            promised_halves=0,
            power_type="公共服务",
            implementing_body="第四师人社局",
        ),
        "only_xb": item(names["only_xb"], "mzj"),
        "retired": item(names["retired"], "mzj"),
    }
    for key, spec in specs.items():
        await versions.create(None, division, codes[key], spec, date(2020, 1, 1))
    await adopt("xa-manager", "xa", codes["low_income"], "W01", promised_halves=6)
    await adopt("xa-manager", "xa", codes["employment"], local_note="请携带照片一张")
    await adopt("xa-manager", "xa", codes["retired"])
    await adopt("xb-manager", "xb", codes["low_income"], "W01", local_note="CANARYB-NOTE")
    await adopt("xb-manager", "xb", codes["only_xb"], "W01", local_note="CANARYB-ONLY")
    await adopt("d4-liuhong", "d4", codes["employment"])
    retired = await tq.template_by_code(division, codes["retired"])
    assert retired is not None
    async with db.write(division):  # (versions.retire: the same write, without the audit row)
        await tq.set_retired(division, retired["id"], datetime.now(UTC), "测试停办")
    return Catalogue(**codes, names=names)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return asyncio.run(_build())


def anonymous(client: TestClient) -> TestClient:
    client.cookies.clear()
    return client


def assert_public(response: Any) -> None:
    """A public page: no login redirect, no session cookie, no canary of xb."""
    assert response.status_code == 200, response.text[:300]
    assert "set-cookie" not in response.headers
    assert "CANARYB" not in response.text
    assert "HX-Request" in response.headers["vary"]


# --- the guide -------------------------------------------------------------------------


def test_guide_lists_adopted_items_without_login(client: TestClient, cat: Catalogue) -> None:
    page = client.get("/t/xa/guide")
    assert_public(page)
    text = page.text
    assert text.lstrip().startswith("<!doctype html>")
    assert cat.names["low_income"] in text and cat.names["employment"] in text
    assert cat.names["only_xb"] not in text  # adopted by xb only
    assert cat.names["retired"] not in text  # retired: no new applications
    assert f"/t/xa/guide/{cat.low_income}" in text
    assert "甲1号窗口" in text  # the window
    assert 'hx-trigger="input changed delay:300ms' in text and 'hx-target="#results"' in text


def test_guide_shows_the_centres_tighter_limit(client: TestClient, cat: Catalogue) -> None:
    xa = client.get("/t/xa/guide", params={"q": cat.low_income}).text
    xb = client.get("/t/xb/guide", params={"q": cat.low_income}).text
    assert content.halves_text(6) in xa and content.halves_text(10) not in xa  # xa: 3 days
    assert content.halves_text(10) in xb  # xb keeps the division's 5 days


def test_search_by_name_code_and_department(client: TestClient, cat: Catalogue) -> None:
    by_name = client.get("/t/xa/guide", params={"q": f"最低生活保障申请{TAG}"}).text
    assert cat.names["low_income"] in by_name and cat.names["employment"] not in by_name
    by_code = client.get("/t/xa/guide", params={"q": cat.employment.lower()}).text
    assert cat.names["employment"] in by_code and cat.names["low_income"] not in by_code
    by_local_code = client.get("/t/xa/guide", params={"q": f"MZ-{TAG}"}).text
    assert cat.names["low_income"] in by_local_code
    in_rsj = client.get("/t/xa/guide", params={"q": TAG, "department": "rsj"}).text
    assert cat.names["employment"] in in_rsj and cat.names["low_income"] not in in_rsj
    assert '<option value="rsj" selected>' in in_rsj
    nothing = client.get("/t/xa/guide", params={"q": f"没有这个{TAG}"})
    assert nothing.status_code == 200 and cat.names["low_income"] not in nothing.text
    junk = client.get("/t/xa/guide", params={"q": "x" * 500, "department": "<script>"})
    assert junk.status_code == 200 and "<script>" not in junk.text


def test_search_fragment_from_the_same_url(client: TestClient, cat: Catalogue) -> None:
    url = "/t/xa/guide"
    params = {"q": TAG, "department": "mzj"}
    full = client.get(url, params=params)
    part = client.get(url, params=params, headers={"HX-Request": "true"})
    assert_public(full)
    assert_public(part)
    assert part.text.lstrip().startswith('<section id="results"')
    assert "<html" not in part.text and "<form" not in part.text
    assert cat.names["low_income"] in part.text and cat.names["employment"] not in part.text
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in part.headers["vary"]


def test_item_page_has_everything(client: TestClient, cat: Catalogue) -> None:
    page = client.get(f"/t/xa/guide/{cat.low_income}")
    assert_public(page)
    text = page.text
    for expected in (
        cat.names["low_income"],
        LOW_INCOME["conditions"],
        "居民身份证",
        "户口簿",
        "全部成员页",
        "家庭成员中有残疾人的",  # the condition of a conditional material
        "《社会救助暂行办法》第九条",
        "第四师民政局",
        "最低生活保障证",
        "0999-8766012",
        "甲1号窗口",
        "不收费",
        content.halves_text(6),  # promised here
        content.halves_text(20),  # legal
        "受理",
        "分管领导",
        f"{settings.public_base_url}/t/xa/guide/{cat.low_income}",
    ):
        assert str(expected) in text, expected
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'class="flowchart"' in text
    assert "/static/css/print.css" in text
    assert "style=" not in text and "<script>" not in text


def test_item_page_local_note_and_immediate(client: TestClient, cat: Catalogue) -> None:
    text = client.get(f"/t/xa/guide/{cat.employment}").text
    assert "请携带照片一张" in text
    assert content.halves_text(0) in text


@pytest.mark.parametrize("code", ["NO-SUCH-CODE", "x", "P000000-9", "%3Cscript%3E", "print2"])
def test_unknown_code_is_404(client: TestClient, cat: Catalogue, code: str) -> None:
    response = client.get(f"/t/xa/guide/{code}")
    assert response.status_code == 404
    assert "set-cookie" not in response.headers


def test_another_centres_item_is_404(client: TestClient, cat: Catalogue) -> None:
    theirs = reliability.cross_tenant(client.get(f"/t/xa/guide/{cat.only_xb}"), shows="CANARYB")
    missing = client.get("/t/xa/guide/NO-SUCH-CODE")
    assert theirs.status_code == missing.status_code == 404
    assert "CANARYB" not in theirs.text
    assert theirs.text.replace(cat.only_xb, "{C}") == missing.text.replace("NO-SUCH-CODE", "{C}")
    # not adopted by the division itself either
    assert client.get(f"/t/d4/guide/{cat.only_xb}").status_code == 404
    assert client.get(f"/t/d4/guide/{cat.low_income}").status_code == 404
    # xb's own public page shows it (a positive control)
    own = client.get(f"/t/xb/guide/{cat.only_xb}")
    assert own.status_code == 200 and "CANARYB-ONLY" in own.text
    for path in ("/t/xa/guide", "/t/xa/guide/print", "/t/xa/screen", "/t/d4/guide"):
        response = client.get(path, params={"q": TAG} if path.endswith("guide") else None)
        reliability.probe("CANARYB" in response.text or cat.names["only_xb"] in response.text)
        assert response.status_code == 200, path
        assert "CANARYB" not in response.text and cat.names["only_xb"] not in response.text, path


def test_signed_in_staff_of_another_centre_get_the_public_page(
    client: TestClient, cat: Catalogue
) -> None:
    login(client, "xa-clerk")
    page = client.get(f"/t/xb/guide/{cat.only_xb}")
    assert page.status_code == 200 and cat.names["only_xb"] in page.text
    assert reliability.cross_tenant(client.get(f"/t/xa/guide/{cat.only_xb}")).status_code == 404


def test_retired_item_page_says_so(client: TestClient, cat: Catalogue) -> None:
    page = client.get(f"/t/xa/guide/{cat.retired}")
    assert page.status_code == 200
    assert "alert error" in page.text


def test_division_guide_lists_what_the_division_adopted(client: TestClient, cat: Catalogue) -> None:
    text = client.get("/t/d4/guide", params={"q": TAG}).text
    assert cat.names["employment"] in text and cat.names["low_income"] not in text


def test_print_whole_guide(client: TestClient, cat: Catalogue) -> None:
    page = client.get("/t/xa/guide/print")
    assert_public(page)
    text = page.text
    for key in ("low_income", "employment"):
        assert cat.names[key] in text
        assert f'id="item-{getattr(cat, key)}"' in text
    assert "家庭成员中有残疾人的" in text and "请携带照片一张" in text
    assert f"{settings.public_base_url}/t/xa/guide" in text
    assert text.count('class="flowchart"') >= 2
    assert '/static/css/print.css" media="print"' in text


# --- centres with nothing, and suspended centres ------------------------------------------


async def _new_centre(status: str) -> str:
    tree = await tenancy.tree()
    slug = f"pub-{status[:4]}-{secrets.token_hex(3)}"
    scope = system_scope(tree, reason="test")
    async with db.write(scope):
        await tenancy.create_tenant(
            scope,
            slug=slug,
            name=f"测试中心{slug}",
            kind="community",
            parent=tree.by_slug["d4"].id,
            status=status,
        )
    return slug


def test_centre_without_items(client: TestClient) -> None:
    slug = asyncio.run(_new_centre("pilot"))
    for path in (f"/t/{slug}/guide", f"/t/{slug}/guide/print", f"/t/{slug}/screen"):
        response = client.get(path)
        assert_public(response)
    assert client.get(f"/t/{slug}/guide").text.count('class="empty"') == 1
    part = client.get(f"/t/{slug}/guide", headers={"HX-Request": "true"})
    assert part.status_code == 200 and 'class="empty"' in part.text


def test_suspended_centre_is_404(client: TestClient) -> None:
    slug = asyncio.run(_new_centre("suspended"))
    for path in ("guide", "guide/print", "guide/P000-1", "power-list", "power-list/1", "screen"):
        response = client.get(f"/t/{slug}/{path}")
        assert response.status_code == 404, path
        assert "set-cookie" not in response.headers


# --- the hall screen -----------------------------------------------------------------


def test_screen_shows_items_windows_and_staff(client: TestClient, cat: Catalogue) -> None:
    page = client.get("/t/xa/screen")
    assert_public(page)
    text = page.text
    assert "甲团便民服务中心" in text  # the centre
    assert cat.names["low_income"] in text and cat.names["employment"] in text
    assert cat.names["retired"] not in text and cat.names["only_xb"] not in text
    assert "甲1号窗口" in text and "甲窗口" in text and "甲主任" in text  # window, A and B posts
    assert content.halves_text(6) in text
    assert '<meta http-equiv="refresh" content="300">' in text
    assert 'hx-trigger="every 60s"' in text and 'hx-get="/t/xa/screen"' in text
    assert "<time datetime=" in text
    assert "/static/css/screen.css" in text and "/static/css/app.css" not in text
    assert "style=" not in text and "<script>" not in text and "hx-on" not in text
    assert "<a " not in text and "<form" not in text  # nothing to interact with


def test_screen_polls_the_same_url_for_its_board(client: TestClient, cat: Catalogue) -> None:
    part = client.get("/t/xa/screen", headers={"HX-Request": "true"})
    assert_public(part)
    assert part.text.lstrip().startswith('<div id="board"')
    assert "<html" not in part.text
    for block in ('id="live-head"', 'id="items"', 'id="live-duty"'):
        assert block in part.text
    assert "甲窗口" in part.text
