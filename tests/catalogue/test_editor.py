"""The supervisor's item editor: versions, the limit rules, retiring, who may edit, 404s."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.catalogue.content import halves_text
from app.catalogue.editor_forms import parse_days
from tests import reliability
from tests.conftest import login

D4 = "/t/d4/catalogue"


def signed_in(app: Any, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client, login(client, username)


@pytest.fixture
def supervisor(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, "d4-liuhong")
    yield client, token
    client.__exit__(None, None, None)


def new_code() -> str:
    return f"T{secrets.token_hex(5).upper()}"


def item_body(token: str, **changes: Any) -> dict[str, Any]:
    """A valid editor form: a promised item of 民政局 with two materials and no steps."""
    body: dict[str, Any] = {
        "csrf_token": token,
        "name": "最低生活保障申请",
        "local_code": "6540-MZ-001",
        "department": "mzj",
        "power_type": "行政给付",
        "kind": "promised",
        "legal_days": "20",
        "promised_days": "10",
        "conditions": "持有本团场常住户口；\r\n家庭人均收入低于当地低保标准。",
        "materials-0-name": "户口簿",
        "materials-0-form": "original_and_copy",
        "materials-0-copies": "1",
        "materials-0-requirement": "required",
        "materials-0-condition": "",
        "materials-0-note": "",
        "materials-0-sample_file_id": "",
        "materials-1-name": "残疾证",
        "materials-1-form": "copy",
        "materials-1-copies": "1",
        "materials-1-requirement": "conditional",
        "materials-1-condition": "家庭成员有残疾的",
        "materials-1-note": "",
        "materials-1-sample_file_id": "",
        # A blank row, as the browser sends it: ignored.
        "materials-2-name": "",
        "materials-2-form": "original",
        "materials-2-copies": "1",
        "materials-2-requirement": "required",
        "materials-2-condition": "",
        "materials-2-note": "",
        "materials-2-sample_file_id": "",
        "fees": "不收费",
        "fee_basis": "",
        "legal_basis": "《社会救助暂行办法》第十一条",
        "implementing_body": "第四师民政局",
        "result_document": "低保证",
        "supervising_phone": "0999-8766011",
        "channels": ["window", "regiment"],
        "steps-0-name": "",
        "steps-0-actor": "",
        "steps-0-days": "",
        "effective_from": "2026-01-01",
        "change_note": "首次录入",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def create(client: TestClient, token: str, code: str | None = None, **changes: Any) -> str:
    code = code or new_code()
    response = client.post(f"{D4}/new", data=item_body(token, code=code, **changes))
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"{D4}/{code}?done=created"
    return code


def edit_body(client: TestClient, code: str, token: str, **changes: Any) -> dict[str, Any]:
    """What the edit form holds as served (every prefilled input), with ``changes``."""
    page = client.get(f"{D4}/{code}/edit")
    assert page.status_code == 200, page.text[:500]
    body = form_values(page.text)
    body["csrf_token"] = token
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


INPUT = re.compile(r"<input\b[^>]*>", re.S)
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)
ATTR = re.compile(r'(\w[\w-]*)(?:="([^"]*)")?')


def form_values(page: str) -> dict[str, Any]:
    """The values a browser would submit from the editor form (checked boxes, selections)."""
    form = page[page.index('class="stack editor"') :]
    out: dict[str, Any] = {}
    for tag in INPUT.findall(form):
        attrs = {k: html.unescape(v or "") for k, v in ATTR.findall(tag[6:-1])}
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or name == "csrf_token":
            continue
        if kind == "checkbox":
            if "checked" in attrs:
                out.setdefault(name, []).append(attrs.get("value", "y"))
            continue
        out[name] = attrs.get("value", "")
    for name, options in SELECT.findall(form):
        chosen = re.search(
            r'<option[^>]*selected[^>]*value="([^"]*)"|<option value="([^"]*)"[^>]*selected',
            options,
        )
        if chosen:
            out[name] = html.unescape(chosen.group(1) or chosen.group(2))
    for name, text in TEXTAREA.findall(form):
        out[name] = html.unescape(text.lstrip("\r\n"))
    return out


def versions_of(code: str) -> list[dict[str, Any]]:
    from app.catalogue.queries import templates as queries
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    async def go() -> list[dict[str, Any]]:
        scope = system_scope(await tenancy.tree(), reason="test")
        row = await queries.template_by_code(scope, code)
        assert row is not None
        return await queries.versions(scope, row["id"])

    return asyncio.run(go())


# --- creating and revising ------------------------------------------------------------------


def test_create_makes_version_one(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    [v1] = versions_of(code)
    assert v1["number"] == 1 and str(v1["effective_from"]) == "2026-01-01"
    content = v1["content"]
    assert content["legal_halves"] == 40 and content["promised_halves"] == 20
    assert [m["name"] for m in content["materials"]] == ["户口簿", "残疾证"]  # blank row ignored
    assert content["conditions"] == "持有本团场常住户口；\n家庭人均收入低于当地低保标准。"
    assert content["channels"] == ["window", "regiment"] and content["steps"] == []
    page = client.get(f"{D4}/{code}?done=created")
    assert page.status_code == 200
    assert "最低生活保障申请" in page.text and "<svg" in page.text
    assert f'href="{D4}/{code}/edit"' in page.text
    assert f'href="{D4}/{code}/v/1"' in page.text


def test_new_form_and_half_days(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    page = client.get(f"{D4}/new")
    assert page.status_code == 200
    assert page.text.count('<fieldset class="row material">') == 3  # three blank rows
    assert page.text.count('<fieldset class="row step">') == 3
    assert 'name="joint_departments" type="checkbox" value="gtj"' in page.text
    code = create(
        client,
        token,
        legal_days="5",
        promised_days="2.5",
        **{"steps-0-name": "审核", "steps-0-actor": "民政局", "steps-0-days": "1.5"},
    )
    content = versions_of(code)[0]["content"]
    assert content["promised_halves"] == 5 and content["legal_halves"] == 10
    assert content["steps"] == [{"name": "审核", "actor": "民政局", "halves": 3}]
    assert parse_days("2.5") == 5 and parse_days("３") == 6 and parse_days("2,5") == 5
    assert parse_days("2.25") is None and parse_days("-1") is None and parse_days("366") is None


def test_edit_makes_version_two_with_a_diff(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    form = client.get(f"{D4}/{code}/edit")
    assert 'value="最低生活保障申请"' in form.text and 'value="10"' in form.text
    assert form.text.count('<fieldset class="row material">') == 5  # 2 filled + 3 blank
    body = edit_body(
        client,
        code,
        token,
        promised_days="7.5",
        fees="工本费10元",
        effective_from="2026-03-01",
        mandatory="y",
        change_note="压缩承诺时限",
    )
    saved = client.post(f"{D4}/{code}/edit", data=body)
    assert saved.status_code == 303, saved.text[:2000]
    assert saved.headers["location"] == f"{D4}/{code}?done=revised"
    v2, v1 = versions_of(code)
    assert (v2["number"], str(v2["effective_from"]), v2["mandatory"]) == (2, "2026-03-01", True)
    assert v2["content"]["promised_halves"] == 15 and v1["content"]["promised_halves"] == 20
    old = client.get(f"{D4}/{code}/v/1")
    assert old.status_code == 200
    assert halves_text(20) in old.text
    diff = client.get(f"{D4}/{code}/v/2")
    assert diff.status_code == 200
    assert re.findall(r'data-field="([a-z_]+)"', diff.text) == ["promised_halves", "fees"]
    assert "工本费10元" in diff.text and "压缩承诺时限" in diff.text
    page = client.get(f"{D4}/{code}")
    assert f'href="{D4}/{code}/v/2"' in page.text and f'href="{D4}/{code}/v/1"' in page.text


def test_unchanged_edit_makes_no_version(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token, joint_departments=None)
    body = edit_body(client, code, token, change_note="没有改动")
    saved = client.post(f"{D4}/{code}/edit", data=body)
    assert saved.status_code == 303, saved.text[:2000]
    assert saved.headers["location"] == f"{D4}/{code}?done=unchanged"
    assert len(versions_of(code)) == 1
    assert client.get(saved.headers["location"]).status_code == 200


def test_add_more_rows_keeps_input(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    body = item_body(token, code=code, name="保留输入的事项", more="materials")
    page = client.post(f"{D4}/new", data=body)
    assert page.status_code == 200
    assert page.text.count('<fieldset class="row material">') == 6  # 3 sent + 3 more
    assert 'value="保留输入的事项"' in page.text and 'value="家庭成员有残疾的"' in page.text
    assert 'class="error"' not in page.text
    page = client.post(f"{D4}/new", data={**body, "more": "steps"})
    assert page.text.count('<fieldset class="row step">') == 4
    missing = client.get(f"{D4}/{code}")
    assert missing.status_code == 404  # nothing was created


# --- the rules, shown next to the fields ------------------------------------------------------


def field_errors(page: str, name: str) -> str:
    at = page.index(f'id="{name}"')
    start = page.rindex('<div class="field', 0, at)
    return page[start : page.index("</div>", at)]


def test_promised_over_legal_is_refused_with_input_kept(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    page = client.post(
        f"{D4}/new", data=item_body(token, code=code, legal_days="5", promised_days="6.5")
    )
    assert page.status_code == 422
    assert 'class="error"' in field_errors(page.text, "promised_days")
    assert 'value="6.5"' in page.text and 'value="最低生活保障申请"' in page.text
    assert 'value="家庭成员有残疾的"' in page.text
    assert client.get(f"{D4}/{code}").status_code == 404


def test_joint_without_departments_is_refused(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    page = client.post(f"{D4}/new", data=item_body(token, code=code, kind="joint"))
    assert page.status_code == 422
    fieldset = page.text[page.text.index('id="joint_departments"') :]
    assert 'class="error"' in fieldset[: fieldset.index("</fieldset>")]
    assert client.get(f"{D4}/{code}").status_code == 404
    created = create(client, token, kind="joint", joint_departments=["gtj", "jsj"])
    assert versions_of(created)[0]["content"]["joint_departments"] == ["jsj", "gtj"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_days": "2.3"}, "legal_days"),
        ({"legal_days": ""}, "legal_days"),
        ({"kind": "immediate", "promised_days": "1"}, "promised_days"),
        ({"materials-1-condition": ""}, "materials-1-condition"),
        ({"materials-0-name": "", "materials-0-note": "原件核对后退回"}, "materials-0-name"),
        ({"steps-0-name": "审核"}, "steps-0-actor"),
        ({"department": "nope"}, "department"),
        ({"code": "no spaces allowed"}, "code"),
        ({"channels": None}, "channels"),
    ],
)
def test_bad_input_is_shown_at_its_field(supervisor, changes, field) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    page = client.post(f"{D4}/new", data=item_body(token, **{"code": new_code(), **changes}))
    assert page.status_code == 422, page.text[:1000]
    if field == "channels":
        block = page.text[page.text.index('id="channels"') :]
        assert 'class="error"' in block[: block.index("</fieldset>")]
    else:
        assert 'class="error"' in field_errors(page.text, field), field


def test_duplicate_code_is_refused(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    page = client.post(f"{D4}/new", data=item_body(token, code=code, name="另一个事项"))
    assert page.status_code == 422
    assert 'class="error"' in field_errors(page.text, "code")
    assert len(versions_of(code)) == 1


def test_stale_edit_is_refused(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    body = edit_body(client, code, token, fees="甲的改动")
    other = edit_body(client, code, token, fees="乙的改动")
    assert client.post(f"{D4}/{code}/edit", data=body).status_code == 303
    late = client.post(f"{D4}/{code}/edit", data=other)
    assert late.status_code == 409 and 'value="乙的改动"' in late.text
    assert len(versions_of(code)) == 2


# --- retiring -----------------------------------------------------------------------------------


def listed(page: Any, code: str) -> bool:
    return f'href="{D4}/{code}"' in page.text


def test_retire_hides_from_active_list_but_pages_stay(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token, name="即将停办的事项")
    assert listed(client.get(f"{D4}?q={code}"), code)
    retired = client.post(f"{D4}/{code}/retire", data={"csrf_token": token, "note": "并入新事项"})
    assert retired.status_code == 303
    assert not listed(client.get(f"{D4}?q={code}"), code)
    assert not listed(client.get(D4), code)
    assert listed(client.get(f"{D4}?status=retired"), code)
    assert listed(client.get(f"{D4}?status=all&q=即将停办"), code)
    page = client.get(f"{D4}/{code}")
    assert page.status_code == 200 and "并入新事项" in page.text
    assert client.get(f"{D4}/{code}/v/1").status_code == 200
    restored = client.post(f"{D4}/{code}/restore", data={"csrf_token": token})
    assert restored.status_code == 303
    assert listed(client.get(f"{D4}?q={code}"), code)


def test_search_filters_and_htmx_results(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token, name="高龄津贴申请", department="mzj")
    create(client, token, name="建设工程规划许可", department="jsj", power_type="行政许可")
    page = client.get(f"{D4}?q=高龄&department=mzj")
    assert code in page.text and "建设工程规划许可" not in page.text
    assert client.get(f"{D4}?q=高龄&department=jsj").text.count(code) == 0
    assert code in client.get(f"{D4}?q={code.lower()}").text  # codes match case-insensitively
    part = client.get(
        f"{D4}?q=高龄", headers={"HX-Request": "true", "HX-Target": "catalogue-results"}
    )
    assert part.status_code == 200 and "<html" not in part.text and "<form" not in part.text
    assert 'id="catalogue-results"' in part.text and code in part.text
    assert "HX-Target" in part.headers["vary"]
    whole = client.get(f"{D4}?q=高龄", headers={"HX-Request": "true"})
    assert "<form" in whole.text and 'id="content"' in whole.text


# --- who may do what ----------------------------------------------------------------------


def test_centre_staff_read_but_cannot_edit(app, supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token, name="残疾人证核发")
    for username in ("xa-manager", "xa-clerk"):
        other, other_token = signed_in(app, username)
        try:
            listing = other.get("/t/xa/catalogue")
            assert listing.status_code == 200 and code in listing.text
            page = other.get(f"/t/xa/catalogue/{code}")
            assert page.status_code == 200 and "残疾人证核发" in page.text
            assert "/edit" not in page.text and "/retire" not in page.text
            assert other.get(f"/t/xa/catalogue/{code}/v/1").status_code == 200
            for url in (f"/t/xa/catalogue/{code}/edit", "/t/xa/catalogue/new"):
                assert other.get(url).status_code == 403, url
                body = item_body(other_token, code=new_code())
                assert other.post(url, data=body).status_code == 403, url
            for action in ("retire", "restore"):
                url = f"/t/xa/catalogue/{code}/{action}"
                assert other.post(url, data={"csrf_token": other_token}).status_code == 403
            # The division's own pages are not theirs at all.
            assert other.get(f"{D4}/{code}").status_code == 404
        finally:
            other.__exit__(None, None, None)
    assert len(versions_of(code)) == 1


def test_supervisor_edits_only_at_the_division(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    page = client.get(f"/t/xa/catalogue/{code}")
    assert page.status_code == 200 and "/edit" not in page.text
    assert client.get(f"/t/xa/catalogue/{code}/edit").status_code == 404
    assert client.get("/t/xa/catalogue/new").status_code == 404


def test_unknown_code_and_version_are_404(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    for url in (
        f"{D4}/NOSUCHCODE1",
        f"{D4}/NOSUCHCODE1/edit",
        f"{D4}/NOSUCHCODE1/v/1",
        f"{D4}/{code}/v/2",
        f"{D4}/{code}/v/0",
        f"{D4}/{code}/v/x",
        f"{D4}/..%2F..%2Fetc/v/1",
        f"{D4}/{'A' * 40}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{D4}/NOSUCHCODE1/retire", data={"csrf_token": token}).status_code == 404


def test_another_divisions_item_is_404(supervisor) -> None:  # type: ignore[no-untyped-def]
    """An item of a second division (x2, created by the security harness) is missing here."""
    from tests.security.harness import load_world

    world = load_world()
    code = world.item_codes["x2"]
    client, token = supervisor
    for url in (f"{D4}/{code}", f"{D4}/{code}/edit", f"{D4}/{code}/v/1", f"/t/xa/catalogue/{code}"):
        response = reliability.cross_tenant(client.get(url), shows="CANARYB")
        assert response.status_code == 404, url
        assert "CANARYB" not in response.text
    edit = client.post(f"{D4}/{code}/edit", data=item_body(token))
    assert reliability.cross_tenant(edit).status_code == 404
    listing = reliability.cross_tenant(
        client.get(f"{D4}?status=all"), shows="CANARYB", listing=True
    )
    assert "CANARYB" not in listing.text


def test_pages_render_full_and_as_fragments(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = create(client, token)
    client.post(f"{D4}/{code}/edit", data=edit_body(client, code, token, fees="工本费1元"))
    for path in (D4, f"{D4}/new", f"{D4}/{code}", f"{D4}/{code}/edit", f"{D4}/{code}/v/2"):
        full = client.get(path)
        part = client.get(path, headers={"HX-Request": "true"})
        assert full.status_code == part.status_code == 200, path
        assert "<!doctype html>" in full.text and "<html" not in part.text, path
        assert 'id="content"' in part.text and "style=" not in full.text, path
        assert "<script>" not in full.text, path
