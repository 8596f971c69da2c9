"""The rectification ledger: steps in order, one extension, who may read and act, tenants."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import escape
from starlette.testclient import TestClient

from app import db
from app.accounts import queries as accounts
from app.cases import ledger
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext
from tests import reliability
from tests.cases.helpers import run, scope_of
from tests.conftest import login

MANAGERS = {"r63": "r63-zhoujianguo", "xa": "xa-manager", "xb": "xb-manager"}


async def _open(slug: str, *, due_at: datetime | None = None, source: str = "rating") -> int:
    """A ledger item of ``slug`` opened the way any source opens one (generic ``open_item``)."""
    scope = await scope_of(MANAGERS[slug], slug)
    tenant_id = scope.own()
    owners = await ledger.managers(scope, tenant_id)
    now = datetime.now(UTC)
    due = due_at or await ledger.due_in(scope, tenant_id, now, ledger.DUE_HALVES)
    title = f"{'CANARYB ' if slug == 'xb' else ''}窗口服务整改 {secrets.token_hex(3)}"
    async with db.write(scope):
        return await ledger.open_item(
            scope, tenant_id, source, None, None, title, "检查发现问题", owners[0]["user_id"], due
        )


def open_item(slug: str = "r63", **kwargs: Any) -> int:
    return int(run(_open(slug, **kwargs)))


def item(item_id: int) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        return await ledger.load(system_scope(await tenancy.tree(), reason="tests"), item_id)

    return dict(run(go()))


def post(client: TestClient, token: str, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": token, **data})


TOKENS = (re.compile(r'name="csrf_token" value="[^"]*"'), re.compile(r'"X-CSRFToken": "[^"]*"'))


def same_page(text: str, path: str) -> str:
    for pattern in TOKENS:
        text = pattern.sub("{TOKEN}", text)
    return text.replace(path, "{PATH}")


def html(msgid: str, **kwargs: Any) -> str:
    return str(escape(gettext(msgid, **kwargs)))


def test_steps_go_in_order_with_notes_and_close_with_the_outcome(client, as_user) -> None:
    item_id = open_item()
    token = as_user("r63-zhoujianguo")
    url = f"/t/r63/rectifications/{item_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="step" value="verify"' in page.text
    # Out of order: refused, nothing stored.
    skipped = post(client, token, url, step="fix", note="已整改")
    assert skipped.status_code == 422
    assert html("Steps go in order: the next step is “%(step)s”.", step=gettext("Verify")) in (
        skipped.text
    )
    assert item(item_id)["state"] == "open"
    # A step needs its note; the typed input survives a refusal.
    no_note = post(client, token, url, step="verify", note="  ")
    assert no_note.status_code == 422
    assert html("Write what was done in this step.") in no_note.text
    for step, note in (
        ("verify", "核实属实"),
        ("fix", "已对窗口人员培训"),
        ("callback", "电话回访"),
    ):
        done = post(client, token, url, step=step, note=note)
        assert done.status_code == 303, done.text[:500]
        assert done.headers["location"] == f"{url}?done={step}"
    assert item(item_id)["state"] == "called_back"
    no_outcome = post(client, token, url, step="outcome", note="群众表示满意")
    assert no_outcome.status_code == 422
    assert "群众表示满意" in no_outcome.text
    closed = post(client, token, url, step="outcome", note="群众表示满意", outcome="resolved")
    assert closed.status_code == 303
    row = item(item_id)
    assert row["state"] == "closed" and row["outcome"] == "resolved"
    assert row["verify_note"] == "核实属实" and row["callback_note"] == "电话回访"
    assert row["closed_at"] is not None
    again = post(client, token, url, step="verify", note="再来")
    assert again.status_code == 422
    assert html("This item is closed.") in again.text
    # Every step is in the audit log.
    tree = run(tenancy.tree())
    entries = run(
        accounts.audit_entries(system_scope(tree, reason="tests"), tree.by_slug["r63"].id, 500)
    )
    actions = {e["action"] for e in entries if e["object_id"] == str(item_id)}
    assert {
        "rectification.opened",
        "rectification.verify",
        "rectification.fix",
        "rectification.callback",
        "rectification.outcome",
    } <= actions


def test_one_extension_with_a_reason_moves_the_due_date_later(client, as_user) -> None:
    item_id = open_item()
    before = item(item_id)["due_at"]
    token = as_user("r63-zhoujianguo")
    url = f"/t/r63/rectifications/{item_id}"
    no_reason = post(client, token, url, step="extend", days="3", reason="")
    assert no_reason.status_code == 422
    assert html("An extension states its reason.") in no_reason.text
    bad_days = post(client, token, url, step="extend", days="abc", reason="需协调部门")
    assert bad_days.status_code == 422
    too_many = post(client, token, url, step="extend", days="99", reason="需协调部门")
    assert too_many.status_code == 422
    ok = post(client, token, url, step="extend", days="3", reason="需协调部门")
    assert ok.status_code == 303
    row = item(item_id)
    assert row["extended"] is True and row["extension_reason"] == "需协调部门"
    assert row["due_at"] > before
    second = post(client, token, url, step="extend", days="2", reason="再次延期")
    assert second.status_code == 422
    assert html("The due date has already been extended once.") in second.text
    assert item(item_id)["due_at"] == row["due_at"]


def test_overdue_items_are_red_and_filtered(client, as_user) -> None:
    late = open_item(due_at=datetime.now(UTC) - timedelta(days=2))
    on_time = open_item()
    as_user("r63-zhoujianguo")
    page = client.get("/t/r63/rectifications")
    assert page.status_code == 200
    assert re.search(
        rf'<tr class="overdue">\s*<td[^>]*><div class="cell"><a href="[^"]*/{late}"', page.text
    )
    overdue = client.get("/t/r63/rectifications?overdue=1", headers={"HX-Request": "true"})
    assert overdue.status_code == 200
    assert "<html" not in overdue.text  # the rows block only
    assert f'/rectifications/{late}"' in overdue.text
    assert f'/rectifications/{on_time}"' not in overdue.text
    closed = client.get("/t/r63/rectifications?state=closed")
    assert f'/rectifications/{late}"' not in closed.text


def test_clerk_may_not_read_or_act(client, as_user) -> None:
    item_id = open_item()
    token = as_user("r63-guzailinuer")
    assert client.get("/t/r63/rectifications").status_code == 403
    assert client.get(f"/t/r63/rectifications/{item_id}").status_code == 403
    response = post(client, token, f"/t/r63/rectifications/{item_id}", step="verify", note="x")
    assert response.status_code == 403
    assert item(item_id)["state"] == "open"


def test_supervisor_reads_the_subtree_but_does_not_act(client, as_user) -> None:
    item_id = open_item()
    token = as_user("d4-liuhong")
    listing = client.get("/t/d4/rectifications?centre=r63&state=all")
    assert listing.status_code == 200
    assert f'/rectifications/{item_id}"' in listing.text
    page = client.get(f"/t/d4/rectifications/{item_id}")
    assert page.status_code == 200
    assert 'name="step"' not in page.text  # no forms for a reader
    for slug in ("d4", "r63"):
        url = f"/t/{slug}/rectifications/{item_id}"
        assert post(client, token, url, step="verify", note="x").status_code == 403
    assert item(item_id)["state"] == "open"


def test_another_centres_item_is_not_found(client, as_user) -> None:
    theirs = open_item("xb")
    token = as_user("xa-manager")
    missing = 2**31 - 2
    for slug in ("xa", "xb"):
        response = reliability.cross_tenant(
            client.get(f"/t/{slug}/rectifications/{theirs}"), shows="CANARYB"
        )
        assert response.status_code == 404, slug
        assert "CANARYB" not in response.text
    own_missing = client.get(f"/t/xa/rectifications/{missing}")
    theirs_page = client.get(f"/t/xa/rectifications/{theirs}")
    assert own_missing.status_code == 404
    assert same_page(theirs_page.text, f"/t/xa/rectifications/{theirs}") == same_page(
        own_missing.text, f"/t/xa/rectifications/{missing}"
    )
    response = post(client, token, f"/t/xa/rectifications/{theirs}", step="verify", note="x")
    assert reliability.cross_tenant(response).status_code == 404
    listing = reliability.cross_tenant(
        client.get("/t/xa/rectifications?state=all"), shows="CANARYB", listing=True
    )
    assert "CANARYB" not in listing.text
    assert item(theirs)["state"] == "open"


def test_manager_opens_the_ledger_from_the_menu(client) -> None:
    login(client, "r63-zhoujianguo")
    home = client.get("/t/r63/")
    assert 'href="/t/r63/rectifications"' in home.text
