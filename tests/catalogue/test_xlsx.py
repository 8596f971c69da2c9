"""The catalogue's .xlsx: import template, dry run (errors by row and column, nothing
written), confirmation of the very file checked, exports, round trip, formula escaping."""

from __future__ import annotations

import asyncio
import html
import io
import re
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from starlette.testclient import TestClient

from app import db
from app.accounts import queries as accounts
from app.catalogue import content as rules
from app.catalogue import imports, versions, xlsx
from app.catalogue.content import halves_text
from app.catalogue.queries import adoption
from app.catalogue.queries import templates as queries
from app.storage import services as storage
from app.storage.backends import storage as backend
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope
from tests import reliability
from tests.conftest import login

BASE = "/t/d4/catalogue"
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TODAY = date.today()
UPLOAD = re.compile(r'name="upload" value="(\d+)"')
SHA = re.compile(r'name="sha256" value="([0-9a-f]{64})"')


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


def code() -> str:
    return f"X{secrets.token_hex(5).upper()}"


def content(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "local_code": "6590-MZ-T",
        "department": "mzj",
        "power_type": "行政给付",
        "kind": "promised",
        "legal_halves": 40,
        "promised_halves": 20,
        "conditions": "1. 具有第四师户籍；\n2. 家庭人均收入低于标准。",
        "materials": [
            {"name": "申请表", "form": "original", "copies": 1},
            {
                "name": "残疾人证",
                "form": "copy",
                "requirement": "conditional",
                "condition": "家庭成员有残疾的",
            },
        ],
        "fees": "不收费",
        "legal_basis": "《社会救助暂行办法》",
        "implementing_body": "第四师民政局",
        "result_document": "审批表",
        "supervising_phone": "0999-8766118",
        "channels": ["window", "regiment"],
        "steps": [{"name": "受理", "actor": "民政窗口", "halves": 0}],
    }
    data.update(changes)
    return data


def make_item(name: str, **changes: Any) -> tuple[str, int]:
    """An item created by the division supervisor in the browser's way (version 1)."""
    item_code = code()

    async def go() -> int:
        scope = await _scope_of("d4-liuhong", "d4")
        item = rules.validate(content(name, **changes))
        return await versions.create(None, scope, item_code, item, TODAY - timedelta(days=1))

    return item_code, run(go())


def template_count() -> int:
    async def go() -> int:
        tree = await tenancy.tree()
        return len(await queries.templates(system_scope(tree, "test"), [tree.by_slug["d4"].id]))

    return run(go())


def latest(item_code: str) -> dict[str, Any] | None:
    async def go() -> dict[str, Any] | None:
        scope = system_scope(await tenancy.tree(), "test")
        row = await queries.template_by_code(scope, item_code)
        if row is None:
            return None
        return (await queries.latest_versions(scope, [row["id"]]))[row["id"]]

    return run(go())


def row_of(item_code: str, data: dict[str, Any], **version: Any) -> list[Any]:
    """One sheet row in COLUMNS order, as a person would type it."""
    cells = {**xlsx.cells(data, {}), "code": item_code, **version}
    cells["department"] = data["department"]  # the code is accepted as well as the name
    return [cells.get(c.key, "") for c in xlsx.COLUMNS]


def workbook(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = xlsx.SHEET
    ws.append(headers or xlsx.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def signed_in(app: Any, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client, login(client, username)


@pytest.fixture
def supervisor(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, "d4-liuhong")
    yield client, token
    client.__exit__(None, None, None)


def upload(client: TestClient, token: str, data: bytes, name: str = "事项.xlsx") -> Any:
    return client.post(
        f"{BASE}/import",
        data={"csrf_token": token},
        files={"file": (name, data, MIME)},
    )


def assert_download(response: Any, name_part: str) -> None:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == MIME
    assert response.headers["content-disposition"].startswith("attachment;")
    assert name_part in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


def problems_of(data: bytes) -> set[tuple[int, str, str]]:
    async def go() -> set[tuple[int, str, str]]:
        scope = await _scope_of("d4-liuhong", "d4")
        plan = await imports.plan(scope, scope.own(), data, TODAY)
        return {(p.row, p.column, p.reason) for p in plan.problems}

    return run(go())


# --- the template -------------------------------------------------------------------------


def test_import_template_downloads_and_opens(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, _token = supervisor
    response = client.get(f"{BASE}/import/template.xlsx")
    assert_download(response, ".xlsx")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == [xlsx.SHEET, xlsx.GUIDE_SHEET]
    assert [c.value for c in wb[xlsx.SHEET][1]] == xlsx.HEADERS
    guide = "\n".join(str(c.value) for row in wb[xlsx.GUIDE_SHEET].iter_rows() for c in row)
    assert "名称｜原件/复印件/原件及复印件/电子版｜份数｜必要 或 情形：条件｜备注" in guide
    assert "mzj" in guide and "民政局" in guide
    # The empty template imports as "nothing to do", not as an error.
    assert problems_of(response.content) == set()


def test_import_page_shows_the_form(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, _token = supervisor
    page = client.get(f"{BASE}/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert f'href="{BASE}/import/template.xlsx"' in page.text
    fragment = client.get(f"{BASE}/import", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text


# --- dry run: problems, nothing written ---------------------------------------------------


def test_broken_sheet_lists_row_column_reason_and_writes_nothing(  # type: ignore[no-untyped-def]
    supervisor,
) -> None:
    client, token = supervisor
    first = code()
    good = content("测试事项（好）")
    rows = [
        row_of(first, content("测试事项（时限）", promised_halves=50)),  # row 2: promised > legal
        row_of(code(), {**good, "department": "xyz"}),  # row 3: unknown department
        row_of(first, good),  # row 4: the code of row 2 again
        row_of(code(), good),  # row 5: a bad material line (below)
        row_of(code(), good),  # row 6: a kind that does not exist, a formula
    ]
    rows[3][xlsx.HEADERS.index("申请材料")] = "户口簿｜正本｜1｜必要\n申请表｜原件｜两份"
    rows[4][xlsx.HEADERS.index("办件类型")] = "特急件"
    rows[4][xlsx.HEADERS.index("事项名称")] = "=1+1"  # typed as a formula
    data = workbook(rows)
    before = template_count()
    response = upload(client, token, data)
    assert response.status_code == 422
    assert template_count() == before
    assert 'name="upload"' not in response.text  # no confirmation offered
    found = problems_of(data)
    columns = {(row, column) for row, column, _reason in found}
    assert (2, "承诺时限（工作日）") in columns
    assert (3, "部门") in columns
    assert (4, "基本编码") in columns
    assert (5, "申请材料") in columns
    assert (6, "办件类型") in columns and (6, "事项名称") in columns
    reasons: dict[tuple[int, str], list[str]] = {}
    for row, column, reason in found:
        reasons.setdefault((row, column), []).append(reason)
    assert any("row 2" in r or "第2行" in r for r in reasons[(4, "基本编码")])
    assert any("xyz" in r for r in reasons[(3, "部门")])
    lines = sorted(reasons[(5, "申请材料")])
    assert len(lines) == 2 and lines[0].startswith(("Line 1", "第1行"))
    assert lines[1].startswith(("Line 2", "第2行"))
    assert ("申请材料" not in {c for r, c in columns if r == 2}) and len(found) >= 6
    text = html.unescape(response.text)
    for _row, column, reason in found:
        assert reason in text and column in text
    assert "<td data-label=" in text


def test_wrong_header_is_named_and_nothing_is_read(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    headers = list(xlsx.HEADERS)
    headers[1] = "事项名"
    data = workbook([row_of(code(), content("测试事项（表头）"))], headers=headers)
    before = template_count()
    response = upload(client, token, data)
    assert response.status_code == 422
    assert template_count() == before
    found = problems_of(data)
    assert {(r, c) for r, c, _ in found} == {(1, "事项名"), (1, "事项名称")}


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.4\n%%EOF\n", "catalogue.xlsx"),  # not a zip: refused by its content
        (b"PK\x03\x04" + b"\x00" * 64, "catalogue.xlsx"),  # a zip signature, not a workbook
        (b"", "empty.xlsx"),
    ],
)
def test_not_a_workbook_is_refused(supervisor, data: bytes, name: str) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    response = reliability.hostile(upload, client, token, data, name, uploads=1)
    assert response.status_code == 422
    assert 'class="field has-error"' in response.text


# --- a good sheet: preview, then confirm --------------------------------------------------


def test_good_sheet_previews_then_confirm_writes(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    existing, template_id = make_item("测试事项（修改）")
    new = code()
    changed = content("测试事项（修改）", promised_halves=10, channels=["window", "online"])
    data = workbook(
        [
            row_of(existing, changed, note="缩短承诺时限", mandatory="是"),
            row_of(new, content("测试事项（新增）", kind="immediate", promised_halves=0)),
        ]
    )
    before = template_count()
    preview = upload(client, token, data)
    assert preview.status_code == 200, preview.text[:2000]
    assert template_count() == before  # the dry run writes nothing
    assert latest(existing)["number"] == 1  # type: ignore[index]
    text = html.unescape(preview.text)
    assert new in text and "测试事项（新增）" in text
    assert existing in text and ("承诺时限" in text or "Promised time limit" in text)
    assert halves_text(20) in text
    assert halves_text(10) in text
    upload_id, sha = UPLOAD.search(preview.text), SHA.search(preview.text)
    assert upload_id and sha

    done = client.post(
        f"{BASE}/import/confirm",
        data={"csrf_token": token, "upload": upload_id.group(1), "sha256": sha.group(1)},
    )
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"].endswith("created=1&changed=1")
    assert template_count() == before + 1
    created = latest(new)
    assert created is not None and created["number"] == 1
    assert created["content"]["kind"] == "immediate"
    revised = latest(existing)
    assert revised is not None and revised["number"] == 2
    assert revised["content"]["promised_halves"] == 10 and revised["mandatory"]
    assert revised["change_note"] == "缩短承诺时限" and revised["effective_from"] >= TODAY
    page = client.get(done.headers["location"])
    assert page.status_code == 200
    # The stored upload is gone: confirming twice is refused, nothing written twice.
    again = client.post(
        f"{BASE}/import/confirm",
        data={"csrf_token": token, "upload": upload_id.group(1), "sha256": sha.group(1)},
    )
    assert again.status_code == 422
    assert latest(existing)["number"] == 2  # type: ignore[index]
    assert template_id


def test_confirm_with_another_or_altered_file_is_refused(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    first, second = code(), code()
    a = upload(client, token, workbook([row_of(first, content("测试事项（甲）"))]))
    b = upload(client, token, workbook([row_of(second, content("测试事项（乙）"))]))
    assert a.status_code == b.status_code == 200
    a_id, a_sha = UPLOAD.search(a.text).group(1), SHA.search(a.text).group(1)  # type: ignore[union-attr]
    b_sha = SHA.search(b.text).group(1)  # type: ignore[union-attr]
    before = template_count()
    for body in (
        {"upload": a_id, "sha256": b_sha},  # the other file's hash
        {"upload": a_id, "sha256": "0" * 64},
        {"upload": a_id, "sha256": "not-a-hash"},
        {"upload": "999999", "sha256": a_sha},
    ):
        response = client.post(f"{BASE}/import/confirm", data={"csrf_token": token, **body})
        assert response.status_code == 422, body
    assert template_count() == before

    # The stored bytes altered behind the app's back: the SHA-256 no longer matches.
    async def tamper() -> None:
        scope = await _scope_of("d4-liuhong", "d4")
        info = await storage.file_info(scope, int(a_id))
        other = workbook([row_of(code(), content("测试事项（篡改）"))])
        await backend().put(info.key, io.BytesIO(other), MIME)

    run(tamper())
    response = client.post(
        f"{BASE}/import/confirm", data={"csrf_token": token, "upload": a_id, "sha256": a_sha}
    )
    assert response.status_code == 422
    assert template_count() == before
    assert latest(first) is None and latest(second) is None


# --- exports ------------------------------------------------------------------------------


def test_export_round_trips_with_no_changes(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    make_item("测试事项（往返）", promised_halves=5, legal_halves=9)  # half days
    response = client.get(f"{BASE}/export.xlsx")
    assert_download(response, ".xlsx")
    wb = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb[xlsx.SHEET][1]] == xlsx.HEADERS
    assert wb[xlsx.SHEET].max_row - 1 == template_count()

    async def go() -> imports.Plan:
        scope = await _scope_of("d4-liuhong", "d4")
        return await imports.plan(scope, scope.own(), response.content, TODAY)

    plan = run(go())
    assert plan.problems == []
    assert [(p.code, p.changes) for p in plan.changes] == []
    assert plan.creations == [] and len(plan.unchanged) == template_count()
    page = upload(client, token, response.content, "export.xlsx")
    assert page.status_code == 200 and 'name="upload"' not in page.text


def test_formulas_come_back_as_text(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, _token = supervisor
    evil = '=HYPERLINK("http://example.invalid","点我")'
    materials = [{"name": "+SUM(1,2)", "form": "copy"}, {"name": "@cmd", "form": "original"}]
    item_code, template_id = make_item(evil, local_code="-1+2", materials=materials)
    response = client.get(f"{BASE}/export.xlsx")
    ws = load_workbook(io.BytesIO(response.content))[xlsx.SHEET]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == item_code)
    by_header = dict(zip(xlsx.HEADERS, row, strict=True))
    for header, expected in (
        ("事项名称", evil),
        ("实施编码", "-1+2"),
        ("申请材料", "+SUM(1,2)｜复印件｜1｜必要\n@cmd｜原件｜1｜必要"),
    ):
        cell = by_header[header]
        assert cell.data_type == "s" and cell.value == expected, header
    assert by_header["事项名称"].quotePrefix

    # A centre's export of its adopted items escapes its local note the same way.
    async def adopt() -> None:
        scope = await _scope_of("xa-manager", "xa")
        version = await queries.latest_versions(scope, [template_id])
        async with db.write(scope):
            adoption_id = await adoption.insert_adoption(
                scope, scope.own(), template_id, version[template_id]["id"], None
            )
            from datetime import UTC, datetime

            await adoption.update_adoption(
                scope, adoption_id, datetime.now(UTC), local_note="=1+1", promised_halves=3
            )

    run(adopt())
    manager, _t = signed_in(client.app, "xa-manager")
    try:
        items = manager.get("/t/xa/items/export.xlsx")
    finally:
        manager.__exit__(None, None, None)
    assert_download(items, ".xlsx")
    ws = load_workbook(io.BytesIO(items.content)).active
    assert ws is not None
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == item_code)
    values = {h: c for (h, _w), c in zip(xlsx.ADOPTED_HEADERS, row, strict=True)}
    assert values["事项名称"].value == evil and values["事项名称"].data_type == "s"
    assert values["本中心备注"].value == "=1+1" and values["本中心备注"].data_type == "s"
    assert values["承诺时限（工作日）"].value == 1.5
    assert values["窗口"].value is None or values["窗口"].value == ""


# --- who may import -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "slug", "status"),
    [
        ("d4-chenzhiqiang", "d4", 403),  # the hall's manager
        ("d4-ayiguli", "d4", 403),  # a window clerk
        ("xa-manager", "xa", 403),  # a centre manager
        ("xa-clerk", "xa", 403),
        ("d4-liuhong", "xa", 404),  # a supervisor, but not at the division
    ],
)
def test_only_division_supervisors_import(app, username: str, slug: str, status: int) -> None:  # type: ignore[no-untyped-def]
    client, token = signed_in(app, username)
    try:
        base = f"/t/{slug}/catalogue"
        assert client.get(f"{base}/import").status_code == status
        assert client.get(f"{base}/import/template.xlsx").status_code == status
        assert client.get(f"{base}/export.xlsx").status_code == status
        before = template_count()
        data = workbook([row_of(code(), content("测试事项（越权）"))])
        response = client.post(
            f"{base}/import", data={"csrf_token": token}, files={"file": ("a.xlsx", data, MIME)}
        )
        assert response.status_code == status
        response = client.post(
            f"{base}/import/confirm", data={"csrf_token": token, "upload": "1", "sha256": "0" * 64}
        )
        assert response.status_code == status
        assert template_count() == before
    finally:
        client.__exit__(None, None, None)


def test_centre_staff_export_their_items(app) -> None:  # type: ignore[no-untyped-def]
    client, _token = signed_in(app, "xa-clerk")
    try:
        assert_download(client.get("/t/xa/items/export.xlsx"), ".xlsx")
        assert client.get("/t/xb/items/export.xlsx").status_code == 404
    finally:
        client.__exit__(None, None, None)
