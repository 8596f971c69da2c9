"""督办 on red-light cases (once per case) and the division's rectification overview."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import escape

from app import db
from app.accounts import queries as accounts
from app.cases import ledger, ledger_evidence, lights
from app.cases.queries import core
from app.cases.tables import Rectification
from app.notify import queries as notify
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope, user_scope
from app.web.i18n import gettext
from tests.cases.helpers import DIBAO, register, run, scope_of

SUPERVISOR = "d4-liuhong"
OTHER_SUPERVISOR = "d4-yeerlan"


def html(msgid: str, **kwargs: Any) -> str:
    return str(escape(gettext(msgid, **kwargs)))


def _system() -> Any:
    return system_scope(run(tenancy.tree()), reason="tests")


def red_case(slug: str = "xa") -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register(f"{slug}-clerk", slug, DIBAO, now=now - timedelta(days=40), name="督办"))
    run(lights.move_lights(now))
    fresh = run(core.case(_system(), case["id"]))
    assert fresh["light"] == "red", fresh["light"]
    return dict(fresh)


def supervision_items(case_id: int) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with db.read(system_scope(await tenancy.tree(), reason="tests")):
            return await Rectification.select().where(
                (Rectification.case == case_id) & (Rectification.source == "supervision")
            )

    return list(run(go()))


def inbox_links(username: str) -> list[str]:
    async def go() -> list[str]:
        user = await accounts.user_by_username(username)
        assert user is not None
        return [i["link"] for i in await notify.inbox(user_scope(user["id"]), limit=500)]

    return list(run(go()))


def test_supervise_a_red_case_once(client, as_user) -> None:
    case = red_case()
    token = as_user(SUPERVISOR)
    page = client.get(f"/t/d4/cases/{case['id']}")
    assert page.status_code == 200
    assert f'action="/t/d4/cases/{case["id"]}/supervise"' in page.text
    url = f"/t/d4/cases/{case['id']}/supervise"
    bad_days = client.post(url, data={"csrf_token": token, "days": "99", "note": "限期办结"})
    assert bad_days.status_code == 422
    assert "限期办结" in bad_days.text
    assert supervision_items(case["id"]) == []
    done = client.post(url, data={"csrf_token": token, "days": "3", "note": "限期办结"})
    assert done.status_code == 303, done.text[:500]
    items = supervision_items(case["id"])
    assert len(items) == 1
    row = items[0]
    assert done.headers["location"] == f"/t/d4/rectifications/{row['id']}?done=supervise"
    assert row["source_id"] == case["id"] and row["tenant_id"] == case["tenant_id"]
    assert row["owner_id"] == case["owner_id"]  # 首问负责: the registering clerk
    assert row["state"] == "open" and row["detail"] == "限期办结"
    assert row["due_at"] > datetime.now(UTC) + timedelta(days=2)
    link = f"/t/xa/rectifications/{row['id']}"
    assert link in inbox_links("xa-clerk") and link in inbox_links("xa-manager")
    # Pressed again: the open item, no duplicate.
    again = client.post(url, data={"csrf_token": token, "days": "3", "note": "再次督办"})
    assert again.status_code == 303
    assert again.headers["location"] == f"/t/d4/rectifications/{row['id']}?done=already"
    assert len(supervision_items(case["id"])) == 1
    shown = client.get(again.headers["location"])
    assert html("This case is already under supervision: here is the open item.") in shown.text
    # Also from the centre's address (the supervisor's scope at xa).
    other = client.post(f"/t/xa/cases/{case['id']}/supervise", data={"csrf_token": token})
    assert other.status_code == 303
    assert len(supervision_items(case["id"])) == 1
    # The centre answers; the supervisor verifies it like a finding.
    as_user("xa-manager")
    manager = run(scope_of("xa-manager", "xa"))
    run(ledger_evidence.answer(None, manager, row["id"], "已办结并致歉", []))
    token = as_user(SUPERVISOR)
    accepted = client.post(
        f"/t/d4/rectifications/{row['id']}/verify",
        data={"csrf_token": token, "decision": "accept", "note": "同意"},
    )
    assert accepted.status_code == 303
    # Closed: a new 督办 is possible again (the case is still red).
    renewed = client.post(url, data={"csrf_token": token, "days": "2"})
    assert renewed.status_code == 303
    assert len(supervision_items(case["id"])) == 2


def test_only_red_cases_and_only_supervisors(client, as_user) -> None:
    green = run(register("xa-clerk", "xa", DIBAO, name="绿灯"))
    assert green["light"] != "red" and not green["legal_exceeded"]
    token = as_user(SUPERVISOR)
    page = client.get(f"/t/d4/cases/{green['id']}")
    assert "/supervise" not in page.text
    refused = client.post(
        f"/t/d4/cases/{green['id']}/supervise",
        data={"csrf_token": token, "days": "3", "note": "请说明"},
    )
    assert refused.status_code == 422
    assert (
        html("Only a case with a red light or past its legal limit can be put under supervision.")
        in refused.text
    )
    assert "请说明" in refused.text
    assert supervision_items(green["id"]) == []
    red = red_case()
    # The centre's own manager and clerk may not 督办.
    for user in ("xa-manager", "xa-clerk"):
        token = as_user(user)
        page = client.get(f"/t/xa/cases/{red['id']}")
        assert "/supervise" not in page.text, user
        response = client.post(f"/t/xa/cases/{red['id']}/supervise", data={"csrf_token": token})
        assert response.status_code == 403, user
    # Another centre's case and unknown ids: 404, never 5xx.
    token = as_user("xb-manager")
    assert client.post(
        f"/t/xb/cases/{red['id']}/supervise", data={"csrf_token": token}
    ).status_code in (403, 404)
    token = as_user(SUPERVISOR)
    for case_id in (2**31 - 2, 2**40):
        response = client.post(f"/t/d4/cases/{case_id}/supervise", data={"csrf_token": token})
        assert response.status_code == 404
    odd = client.post(
        f"/t/d4/cases/{red['id']}/supervise",
        data={"csrf_token": token, "days": "abc", "note": "x" * 5000},
    )
    assert odd.status_code == 422
    assert supervision_items(red["id"]) == []


# --- the overview -------------------------------------------------------------------------


async def _open(slug: str, by: str, *, due_at: datetime | None = None) -> int:
    scope = await scope_of(by, "d4")
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    now = datetime.now(UTC)
    due = due_at or await ledger.due_in(scope, tenant_id, now, ledger.DUE_HALVES)
    owner = (await ledger.managers(scope, tenant_id))[0]["user_id"]
    async with db.write(scope):
        return await ledger.open_item(
            scope, tenant_id, "finding", None, None, f"发现 {secrets.token_hex(3)}", "", owner, due
        )


def open_finding(slug: str = "xb", by: str = SUPERVISOR, **kwargs: Any) -> int:
    return int(run(_open(slug, by, **kwargs)))


def answer(slug: str, item_id: int) -> None:
    scope = run(scope_of(f"{slug}-manager", slug))
    run(ledger_evidence.answer(None, scope, item_id, "已整改", []))


FIGURE = re.compile(r"<strong>(\d+)</strong>")


def card(page: str, slug: str) -> tuple[int, int, int]:
    """(open, overdue, awaiting verification) of one centre's card (zeros if none)."""
    for block in page.split('<li class="centre-card')[1:]:
        if f'/rectifications?centre={slug}"' in block.split("</li>")[0]:
            numbers = [int(n) for n in FIGURE.findall(block.split("</li>")[0])]
            return numbers[0], numbers[1], numbers[2]
    return 0, 0, 0


def test_overview_counts_by_centre_and_awaiting_my_verification(client, as_user) -> None:
    as_user(SUPERVISOR)
    before = card(client.get("/t/d4/rectifications/overview").text, "xb")
    late = open_finding(due_at=datetime.now(UTC) - timedelta(days=1))
    answered = open_finding()
    answer("xb", answered)
    theirs = open_finding(by=OTHER_SUPERVISOR)
    answer("xb", theirs)
    page = client.get("/t/d4/rectifications/overview")
    assert page.status_code == 200
    after = card(page.text, "xb")
    assert after[0] - before[0] == 3
    assert after[1] - before[1] == 1
    assert after[2] - before[2] == 2
    mine = page.text.split('id="mine"')[1].split("</section>")[0]
    assert f'/rectifications/{answered}"' in mine
    assert f'/rectifications/{theirs}"' not in mine
    assert f'/rectifications/{late}"' not in mine
    waiting = page.text.split('id="waiting"')[1].split("</section>")[0]
    assert f'/rectifications/{theirs}"' in waiting
    # The card links to the centre's filtered ledger, which lists the items.
    assert 'href="/t/d4/rectifications?centre=xb&amp;overdue=1"' in page.text
    listing = client.get("/t/d4/rectifications?centre=xb&overdue=1")
    assert f'/rectifications/{late}"' in listing.text
    assert f'/rectifications/{answered}"' not in listing.text
    awaiting = client.get("/t/d4/rectifications?centre=xb&state=answered")
    assert f'/rectifications/{answered}"' in awaiting.text
    assert f'/rectifications/{late}"' not in awaiting.text
    # After acceptance it leaves the counts.
    token = as_user(SUPERVISOR)
    client.post(
        f"/t/d4/rectifications/{answered}/verify",
        data={"csrf_token": token, "decision": "accept"},
    )
    final = card(client.get("/t/d4/rectifications/overview").text, "xb")
    assert final[0] - before[0] == 2 and final[2] - before[2] == 1


def test_overview_is_for_supervisors(client, as_user) -> None:
    open_finding("xa")
    for user, slug in (("xa-manager", "xa"), ("xa-clerk", "xa")):
        as_user(user)
        assert client.get(f"/t/{slug}/rectifications/overview").status_code == 403, user
    as_user(SUPERVISOR)
    # At a centre's address the supervisor sees just that centre.
    page = client.get("/t/xa/rectifications/overview")
    assert page.status_code == 200
    assert "centre=xb" not in page.text
