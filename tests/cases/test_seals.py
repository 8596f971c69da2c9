"""The seal ledger: seals added and retired by managers only, the ledger filtered by seal and
by Shanghai local days, exported as .xlsx (text never a formula), other centres' 404s."""

from __future__ import annotations

import io
import re
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import escape
from openpyxl import load_workbook

from app.accounts.queries import audit_entries
from app.cases import actions
from app.cases.queries import seals
from app.cases.seal_forms import PAGE_SIZE
from app.web.i18n import gettext as _gettext
from tests import reliability
from tests.cases.helpers import actor_of, register, run, scope_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
MANAGER, CLERK = "r68-liguohua", "r68-guanchunmei"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def gettext(msgid: str) -> str:
    """The translated message as the page shows it (HTML-escaped)."""
    return str(escape(_gettext(msgid)))


def _unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def _seal_named(slug: str, name: str) -> dict[str, Any] | None:
    scope = run(scope_of(MANAGER if slug == "r68" else "r63-zhoujianguo", slug))
    return run(seals.seal_named(scope, scope.own(), name))


def _add(client: Any, token: str, name: str, keeper: str = "王会计") -> Any:
    return client.post("/t/r68/seals", data={"csrf_token": token, "name": name, "keeper": keeper})


def _decide(seal_id: int, at: datetime, decision: str = "approved") -> dict[str, Any]:
    """A r68 case registered a week before ``at`` and decided at ``at`` with the seal."""
    from datetime import timedelta

    case = run(register(CLERK, "r68", now=at - timedelta(days=7)))
    clerk, c_actor = run(scope_of(CLERK, "r68")), run(actor_of(CLERK))
    boss, b_actor = run(scope_of(MANAGER, "r68")), run(actor_of(MANAGER))
    run(actions.start_review(clerk, case["id"], c_actor, now=at - timedelta(days=6)))
    run(actions.submit(clerk, case["id"], c_actor, now=at - timedelta(days=5)))
    reason = "不符合条件" if decision == "denied" else ""
    run(actions.decide(boss, case["id"], b_actor, decision, seal_id, reason=reason, now=at))
    return case


def test_clerk_may_neither_see_nor_change_seals(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(CLERK)
    assert client.get("/t/r68/seals").status_code == 403
    assert client.get("/t/r68/seals/export.xlsx").status_code == 403
    name = _unique("职员章")
    assert _add(client, token, name).status_code == 403
    assert _seal_named("r68", name) is None


def test_manager_adds_retires_and_reactivates_a_seal(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    name = _unique("第六十八团行政审批专用章-")
    response = _add(client, token, name)
    assert response.status_code == 303, response.text[:500]
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and name in page.text
    seal = _seal_named("r68", name)
    assert seal is not None and seal["active"] and seal["keeper"] == "王会计"

    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    clerk_client_url = f"/t/r68/seals/{seal['id']}/retire"
    assert client.post(clerk_client_url, data={"csrf_token": token}).status_code == 303
    assert not _seal_named("r68", name)["active"]  # type: ignore[index]
    # a retired seal cannot go on a decision
    case = run(register(CLERK, "r68"))
    clerk, c_actor = run(scope_of(CLERK, "r68")), run(actor_of(CLERK))
    run(actions.start_review(clerk, case["id"], c_actor))
    run(actions.submit(clerk, case["id"], c_actor))
    boss, b_actor = run(scope_of(MANAGER, "r68")), run(actor_of(MANAGER))
    try:
        run(actions.decide(boss, case["id"], b_actor, "approved", seal["id"]))
    except actions.WorkflowError as exc:
        assert exc.field == "seal"
    else:
        raise AssertionError("a retired seal was used")
    url = f"/t/r68/seals/{seal['id']}/reactivate"
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    assert _seal_named("r68", name)["active"]  # type: ignore[index]

    scope = run(scope_of(MANAGER, "r68"))
    logged = [
        e["action"]
        for e in run(audit_entries(scope, scope.own(), limit=20))
        if e["object_type"] == "seal" and e["object_id"] == str(seal["id"])
    ]
    assert logged == ["seal.reactivated", "seal.retired", "seal.added"]


def test_bad_seal_input_is_kept_with_a_message(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    empty = _add(client, token, "", keeper="李保管")
    assert empty.status_code == 422 and "李保管" in empty.text
    assert gettext("Enter the seal's name as carved on it.") in empty.text
    name = _unique("重名章")
    assert _add(client, token, name).status_code == 303
    again = _add(client, token, name, keeper="张保管")
    assert again.status_code == 422
    assert gettext("The centre already has a seal of this name.") in again.text
    assert name in again.text and "张保管" in again.text


def test_clerk_cannot_retire(client, as_user) -> None:  # type: ignore[no-untyped-def]
    scope = run(scope_of(MANAGER, "r68"))
    seal_id = run(_insert(scope, _unique("在用章")))
    token = as_user(CLERK)
    assert (
        client.post(f"/t/r68/seals/{seal_id}/retire", data={"csrf_token": token}).status_code == 403
    )
    assert run(seals.seal(scope, scope.own(), seal_id))["active"]


async def _insert(scope: Any, name: str) -> int:
    from app import db

    async with db.write(scope):
        return await seals.insert_seal(scope, scope.own(), name, "")


def test_other_centres_seals_are_not_found(client, as_user) -> None:  # type: ignore[no-untyped-def]
    r63 = run(scope_of("r63-zhoujianguo", "r63"))
    seal_id = run(_insert(r63, _unique("六十三团章")))
    token = as_user(MANAGER)
    for action in ("retire", "reactivate"):
        for slug in ("r68", "r63"):
            url = f"/t/{slug}/seals/{seal_id}/{action}"
            response = reliability.cross_tenant(client.post(url, data={"csrf_token": token}))
            assert response.status_code == 404, url
    assert reliability.cross_tenant(client.get("/t/r63/seals")).status_code == 404
    assert reliability.cross_tenant(client.get("/t/r68/seals?centre=r63")).status_code == 404
    export = client.get("/t/r68/seals/export.xlsx?centre=r63")
    assert reliability.cross_tenant(export).status_code == 404
    assert run(seals.seal(r63, r63.own(), seal_id))["active"]


def test_supervisor_reads_a_centre_of_the_subtree(client, as_user) -> None:  # type: ignore[no-untyped-def]
    r68 = run(scope_of(MANAGER, "r68"))
    name = _unique("督查可见章")
    seal_id = run(_insert(r68, name))
    token = as_user("d4-liuhong")
    page = client.get("/t/d4/seals?centre=r68")
    assert page.status_code == 200 and name in page.text
    assert f"/seals/{seal_id}/retire" not in page.text  # read only
    assert client.post(f"/t/d4/seals/{seal_id}/retire", data={"csrf_token": token}).status_code in (
        403,
        404,
    )
    assert client.get("/t/d4/seals?centre=no-such-centre").status_code == 404


def test_ledger_filters_by_seal_and_local_days(client, as_user) -> None:  # type: ignore[no-untyped-def]
    r68 = run(scope_of(MANAGER, "r68"))
    one = run(_insert(r68, _unique("甲章")))
    two = run(_insert(r68, _unique("乙章")))
    # 23:30 in Shanghai on 10 March is 15:30 UTC: it belongs to the local 10th
    late = _decide(one, datetime(2025, 3, 10, 23, 30, tzinfo=SHANGHAI))
    early = _decide(one, datetime(2025, 3, 12, 9, 0, tzinfo=SHANGHAI))
    other = _decide(two, datetime(2025, 3, 10, 11, 0, tzinfo=SHANGHAI))
    as_user(MANAGER)

    def shown(query: str) -> set[str]:
        response = client.get(f"/t/r68/seals?{query}")
        assert response.status_code == 200, response.text[:500]
        return {c["number"] for c in (late, early, other) if c["number"] in response.text}

    assert shown(f"seal={one}") == {late["number"], early["number"]}
    assert shown(f"seal={two}") == {other["number"]}
    assert shown(f"seal={one}&from=2025-03-10&to=2025-03-10") == {late["number"]}
    assert shown(f"seal={one}&from=2025-03-11") == {early["number"]}
    assert shown("from=2025-03-10&to=2025-03-10") == {late["number"], other["number"]}
    # htmx asks for the ledger block only
    fragment = client.get(f"/t/r68/seals?seal={two}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="ledger"')
    assert other["number"] in fragment.text and "<html" not in fragment.text
    # links to the case and to the decision's print page
    assert f'href="/t/r68/cases/{other["id"]}"' in fragment.text
    assert f'href="/t/r68/cases/{other["id"]}/documents/' in fragment.text


def test_bad_filter_is_a_422_with_the_input_kept(client, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user(MANAGER)
    response = client.get("/t/r68/seals?from=2025-03-12&to=2025-03-10")
    assert response.status_code == 422
    assert gettext("The end date is before the start date.") in response.text
    assert 'value="2025-03-12"' in response.text
    bad = client.get("/t/r68/seals?from=12/03/2025&seal=abc")
    assert bad.status_code == 422 and gettext("Enter a date as YYYY-MM-DD.") in bad.text


def test_ledger_is_paginated(client, as_user) -> None:  # type: ignore[no-untyped-def]
    from app import db
    from app.cases.queries import core

    r68 = run(scope_of(MANAGER, "r68"))
    seal_id = run(_insert(r68, _unique("翻页章")))
    at = datetime(2025, 2, 20, 10, 0, tzinfo=SHANGHAI)
    case = _decide(seal_id, at)
    doc = next(d for d in run(core.documents(r68, case["id"])) if d["kind"] == "approval")

    async def more() -> None:  # the same paper stamped again: enough lines for two pages
        async with db.write(r68):
            for _ in range(PAGE_SIZE):
                await seals.insert_usage(
                    r68,
                    tenant=r68.own(),
                    seal=seal_id,
                    case=case["id"],
                    document=doc["id"],
                    used_by=doc["issued_by_id"],
                    used_by_name="翻页测试",
                    used_at=at,
                )

    run(more())
    as_user(MANAGER)
    first = client.get(f"/t/r68/seals?seal={seal_id}")
    assert first.status_code == 200
    assert first.text.count(f'href="/t/r68/cases/{case["id"]}"') == PAGE_SIZE
    assert f"seal={seal_id}&amp;page=2" in first.text
    second = client.get(f"/t/r68/seals?seal={seal_id}&page=2")
    assert second.text.count(f'href="/t/r68/cases/{case["id"]}"') == 1
    assert f"seal={seal_id}&amp;page=3" not in second.text
    beyond = client.get(f"/t/r68/seals?seal={seal_id}&page=999")
    assert beyond.status_code == 200 and case["number"] not in beyond.text


def test_export_is_filtered_and_formula_safe(client, as_user) -> None:  # type: ignore[no-untyped-def]
    r68 = run(scope_of(MANAGER, "r68"))
    name = _unique('=HYPERLINK("http://evil.example","x")')
    seal_id = run(_insert(r68, name))
    case = _decide(seal_id, datetime(2025, 4, 2, 10, 0, tzinfo=SHANGHAI), decision="denied")
    as_user(MANAGER)
    response = client.get(f"/t/r68/seals/export.xlsx?seal={seal_id}&from=2025-04-01&to=2025-04-30")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1
    assert rows[0][0] == "2025-04-02 10:00" and rows[0][2] == case["number"]
    cell = ws.cell(row=3, column=2)
    assert cell.value == name and cell.data_type == "s" and cell.quotePrefix
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # a date range that matches nothing: only the header rows
    empty = client.get(f"/t/r68/seals/export.xlsx?seal={seal_id}&from=2025-05-01")
    assert empty.status_code == 200
    assert load_workbook(io.BytesIO(empty.content)).active.max_row == 2
