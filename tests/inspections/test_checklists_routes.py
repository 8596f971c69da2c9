"""Checklists in the browser and their services: create, new versions (a saved version never
changes), retire, who may define or read, another division's checklist → 404, and form
errors re-rendered with the input kept (422)."""

from __future__ import annotations

import html
import re
import secrets
from datetime import date, timedelta
from typing import Any

import pytest

from app import db
from app.inspections import checklists as services
from app.inspections.queries import checklists as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.errors import Forbidden, NotFound
from tests.cases.helpers import scope_of
from tests.conftest import login

D4 = "/t/d4/checklists"


def small(score: str = "10", text: str = "窗口公开上墙") -> dict[str, Any]:
    return {
        "sections": [
            {
                "key": "hw",
                "title": "硬件设施",
                "items": [{"key": "h1", "text": text, "max_score": score}],
            }
        ]
    }


async def ensure_x2() -> int:
    """A second division x2 (created exactly like tests/security/harness.py does)."""
    from app.accounts import passwords
    from app.accounts import queries as accounts
    from app.tenancy.services import DEFAULT_HOURS
    from tests.conftest import PASSWORD
    from tests.security.harness import X2_SUPERVISOR

    tree = await tenancy.tree()
    if "x2" in tree.by_slug:
        return tree.by_slug["x2"].id
    scope = system_scope(tree, reason="test")
    async with db.write(scope):
        x2 = await tenancy.create_tenant(
            scope,
            slug="x2",
            name="第二测试师 CANARYB-DIVISION",
            kind="division",
            status="pilot",
            hours=DEFAULT_HOURS,
        )
        scope = scope.with_tenant(x2)
        await db.set_scope(scope)
        await tenancy.upsert_department(
            scope, x2, "x2mz", name="CANARYB-民政局", short_name="CANARYB-民政", sort=1
        )
        user_id = await accounts.create_user(X2_SUPERVISOR, "CANARYB-乙师督查")
        await accounts.update_user(user_id, password_hash=passwords.hash_password(PASSWORD))
        await accounts.add_membership(scope, x2, user_id, {"supervisor"})
    return x2


async def x2_checklist() -> int:
    import dataclasses

    x2 = await ensure_x2()
    tree = await tenancy.tree()
    scope = dataclasses.replace(system_scope(tree, reason="test"), tenant_id=x2)
    found = await queries.checklist_by_code(scope, x2, "sec-x2-checklist")
    if found:
        return int(found["id"])
    return await services.create_checklist(
        scope, x2, "sec-x2-checklist", "CANARYB-乙师检查表", "centre", small(), date(2026, 1, 1)
    )


def new_code() -> str:
    return f"t-{secrets.token_hex(4)}"


# --- services -----------------------------------------------------------------------------


async def test_an_edit_makes_version_2_and_leaves_version_1_unchanged() -> None:
    scope = await scope_of("d4-liuhong", "d4")
    d4 = scope.own()
    checklist_id = await services.create_checklist(
        scope, d4, new_code(), "测试检查表", "centre", small(), date(2026, 1, 1)
    )
    record = await queries.checklist(scope, checklist_id)
    assert record is not None and record["current_version"] == 1
    v1 = await queries.version_number(scope, checklist_id, 1)
    assert v1 is not None
    number = await services.save_version(
        scope,
        record,
        small("20", "窗口公开上墙（含收费标准）"),
        date(2026, 2, 1),
        expected=1,
        change_note="加分",
    )
    assert number == 2
    versions = await queries.versions(scope, checklist_id)
    assert [v["number"] for v in versions] == [2, 1]
    old = versions[1]
    assert old["id"] == v1["id"] and old["definition"] == v1["definition"]
    assert old["max_score"] == v1["max_score"] and old["effective_from"] == date(2026, 1, 1)
    assert old["definition"]["sections"][0]["items"][0]["max_score"] == "10"
    assert versions[0]["definition"]["sections"][0]["items"][0]["max_score"] == "20"
    in_force = await queries.version_in_force(scope, checklist_id, date(2026, 1, 15))
    assert in_force is not None and in_force["number"] == 1
    # The same definition again: no new version.  A stale editor: refused.
    record = await queries.checklist(scope, checklist_id)
    assert record is not None
    same = await services.save_version(
        scope, record, small("20", "窗口公开上墙（含收费标准）"), date(2026, 3, 1), expected=2
    )
    assert same is None
    with pytest.raises(services.VersionConflict):
        await services.save_version(scope, record, small("30"), date(2026, 3, 1), expected=1)
    assert len(await queries.versions(scope, checklist_id)) == 2


async def test_only_the_owning_division_writes() -> None:
    manager = await scope_of("xa-manager", "xa")
    with pytest.raises(Forbidden):
        await services.create_checklist(
            manager, manager.own(), new_code(), "x", "centre", small(), date(2026, 1, 1)
        )
    supervisor = await scope_of("d4-liuhong", "d4")
    checklist_id = await services.create_checklist(
        supervisor, supervisor.own(), new_code(), "测试", "centre", small(), date(2026, 1, 1)
    )
    record = await queries.checklist(manager, checklist_id)  # readable down the tree
    assert record is not None
    with pytest.raises(Forbidden):
        await services.save_version(manager, record, small("5"), date(2026, 2, 1), expected=1)
    assert len(await queries.versions(supervisor, checklist_id)) == 1
    # A supervisor of the division at a centre: may define, but not write the division's row.
    at_centre = await scope_of("d4-liuhong", "r63")
    with pytest.raises(NotFound):
        await services.save_version(at_centre, record, small("5"), date(2026, 2, 1), expected=1)
    assert len(await queries.versions(supervisor, checklist_id)) == 1


async def test_retire_and_restore() -> None:
    scope = await scope_of("d4-liuhong", "d4")
    checklist_id = await services.create_checklist(
        scope, scope.own(), new_code(), "测试", "discipline", small(), date(2026, 1, 1)
    )
    record = await queries.checklist(scope, checklist_id)
    assert record is not None
    assert await services.retire(scope, record) is True
    assert await services.retire(scope, record) is False
    assert (await queries.checklist(scope, checklist_id))["retired_at"] is not None  # type: ignore[index]
    assert await services.retire(scope, record, retired=False) is True
    assert (await queries.checklist(scope, checklist_id))["retired_at"] is None  # type: ignore[index]


# --- the browser --------------------------------------------------------------------------


def body(token: str, code: str, **more: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "code": code,
        "title": "测试督促检查表",
        "kind": "centre",
        "effective_from": date.today().isoformat(),
        "change_note": "",
        "s0-key": "hardware",
        "s0-title": "硬件设施",
        "s0-0-key": "h1",
        "s0-0-text": "服务事项公开上墙",
        "s0-0-guidance": "缺一项扣1分",
        "s0-0-max": "60",
        "s0-0-photo": "y",
        "s0-1-key": "",
        "s0-1-text": "亮牌办公",
        "s0-1-guidance": "",
        "s0-1-max": "40",
        "s0-2-key": "",  # a blank row: ignored
        "s0-2-text": "",
        "s0-2-guidance": "",
        "s0-2-max": "",
    }
    data.update(more)
    return data


def _id_of(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    found = re.search(r"/checklists/(\d+)\?done=", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_create_edit_and_versions_in_the_browser(client: Any) -> None:
    token = login(client, "d4-liuhong")
    assert client.get(D4).status_code == 200
    assert client.get(f"{D4}/new").status_code == 200
    code = new_code()
    checklist_id = _id_of(client.post(f"{D4}/new", data=body(token, code)))
    page = client.get(f"{D4}/{checklist_id}?done=created")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "服务事项公开上墙" in text and "亮牌办公" in text and "缺一项扣1分" in text
    assert code in client.get(D4).text
    edit = client.get(f"{D4}/{checklist_id}/edit")
    assert edit.status_code == 200 and "服务事项公开上墙" in html.unescape(edit.text)
    # Add a row with the plain button, then save a changed definition: version 2.
    changed = body(token, code, **{"s0-0-max": "50", "s0-2-text": "佩证上岗", "s0-2-max": "10"})
    changed.pop("code"), changed.pop("kind")
    changed["expected"] = "1"
    more = client.post(f"{D4}/{checklist_id}/edit", data={**changed, "more": "item-0"})
    assert more.status_code == 200
    assert 'name="s0-3-text"' in more.text and "佩证上岗" in html.unescape(more.text)
    changed["effective_from"] = (date.today() + timedelta(days=1)).isoformat()
    changed["change_note"] = "新增一项"
    assert _id_of(client.post(f"{D4}/{checklist_id}/edit", data=changed)) == checklist_id
    newest = html.unescape(client.get(f"{D4}/{checklist_id}").text)
    assert "佩证上岗" in newest and "新增一项" in newest
    first = html.unescape(client.get(f"{D4}/{checklist_id}?v=1").text)
    assert "佩证上岗" not in first and "服务事项公开上墙" in first
    assert client.get(f"{D4}/{checklist_id}?v=9").status_code == 404
    # Saving the same again makes no version; a stale editor gets a 409 with its input.
    assert (
        "done=unchanged"
        in client.post(f"{D4}/{checklist_id}/edit", data={**changed, "expected": "2"}).headers[
            "location"
        ]
    )
    stale = client.post(f"{D4}/{checklist_id}/edit", data={**changed, "s0-0-max": "45"})
    assert stale.status_code == 409 and 'value="45"' in stale.text
    # Retire, then restore.
    retired = client.post(f"{D4}/{checklist_id}", data={"csrf_token": token, "action": "retire"})
    assert retired.status_code == 303 and "done=retired" in retired.headers["location"]
    restored = client.post(f"{D4}/{checklist_id}", data={"csrf_token": token, "action": "restore"})
    assert "done=restored" in restored.headers["location"]


def test_form_errors_keep_the_input(client: Any) -> None:
    token = login(client, "d4-liuhong")
    code = new_code()
    bad = body(token, code, **{"s0-0-max": "120", "s0-1-key": "h1", "title": "保留的标题"})
    response = client.post(f"{D4}/new", data=bad)
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert 'value="120"' in response.text and "保留的标题" in text and "亮牌办公" in text
    assert "缺一项扣1分" in text
    assert response.text.count('class="error"') >= 2
    assert code not in client.get(D4).text  # nothing saved
    empty = client.post(f"{D4}/new", data={"csrf_token": token, "code": "Bad Code", "title": ""})
    assert empty.status_code == 422
    assert client.post(f"{D4}/new", data=body(token, "x")).status_code == 422  # code too short


async def test_who_reads_and_who_defines(client: Any) -> None:
    x2 = await x2_checklist()
    supervisor = await scope_of("d4-liuhong", "d4")
    mine = await services.create_checklist(
        supervisor, supervisor.own(), new_code(), "本师检查表", "centre", small(), date(2026, 1, 1)
    )
    token = login(client, "xa-manager")
    listed = client.get("/t/xa/checklists")
    assert listed.status_code == 200 and "本师检查表" in listed.text
    assert "CANARYB" not in listed.text
    assert client.get(f"/t/xa/checklists/{mine}").status_code == 200
    assert client.get(f"/t/xa/checklists/{x2}").status_code == 404
    assert client.get(f"/t/xa/checklists/{x2}/edit").status_code == 403
    assert client.get("/t/xa/checklists/new").status_code == 403
    assert client.get(f"/t/xa/checklists/{mine}/edit").status_code == 403
    assert (
        client.post(
            f"/t/xa/checklists/{mine}", data={"csrf_token": token, "action": "retire"}
        ).status_code
        == 403
    )
    assert client.get("/t/xa/checklists/999999999").status_code == 404
    # The division's supervisor: another division's checklist is missing too.
    token = login(client, "d4-liuhong")
    assert client.get(f"{D4}/{x2}").status_code == 404
    assert client.get(f"{D4}/{x2}/edit").status_code == 404
    assert (
        client.post(f"{D4}/{x2}", data={"csrf_token": token, "action": "retire"}).status_code == 404
    )
    assert client.post(f"{D4}/{x2}/edit", data={"csrf_token": token}).status_code == 404
    # At a centre the supervisor reads but does not define there.
    assert client.get(f"/t/r63/checklists/{mine}").status_code == 200
    assert client.get(f"/t/r63/checklists/{mine}/edit").status_code == 404
    # x2's own supervisor sees its checklist and not d4's.
    login(client, "x2-supervisor")
    assert client.get(f"/t/x2/checklists/{x2}").status_code == 200
    assert client.get(f"/t/x2/checklists/{mine}").status_code == 404
