"""Printed papers: the acceptance receipt (A5 and 80 mm), notices, refusals and decisions."""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

import pytest

from app.cases import actions, identity, intake, papers, print_routes
from app.cases.queries import core
from app.settings import settings
from app.web.i18n import gettext
from tests.cases.helpers import (
    DIBAO,
    RESIDENT_ID,
    actor_of,
    ensure_adopted,
    ensure_seal,
    register,
    run,
    scope_of,
)

CLERK, MANAGER = "r63-guzailinuer", "r63-zhoujianguo"
NAME = "阿依古丽·买买提"


def _docs(username: str, slug: str, case_id: int) -> list[dict[str, Any]]:
    return run(core.documents(run(scope_of(username, slug)), case_id))


def _decided(decision: str, reason: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """A case of r63 taken to a decision; returns (case, decision document)."""
    case = run(register(CLERK, "r63"))
    clerk, c_actor = run(scope_of(CLERK, "r63")), run(actor_of(CLERK))
    manager, m_actor = run(scope_of(MANAGER, "r63")), run(actor_of(MANAGER))
    run(actions.start_review(clerk, case["id"], c_actor))
    run(actions.submit(clerk, case["id"], c_actor))
    seal = run(ensure_seal("r63"))
    run(actions.decide(manager, case["id"], m_actor, decision, seal, reason=reason))
    docs = [d for d in _docs(CLERK, "r63", case["id"]) if d["kind"] in ("approval", "denial")]
    return case, docs[0]


# --- the receipt ------------------------------------------------------------------------


def test_track_url_is_built_from_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = dataclasses.replace(settings, public_base_url="https://bm.example.cn")
    monkeypatch.setattr(print_routes, "settings", changed)
    url = print_routes.track_url("r63", "R63-2026-000123", "004217")
    assert url == "https://bm.example.cn/t/r63/track?number=R63-2026-000123&code=004217"


def test_receipt_shows_the_case_masked(client, as_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    changed = dataclasses.replace(settings, public_base_url="https://bm.example.cn")
    monkeypatch.setattr(print_routes, "settings", changed)
    made: list[str] = []
    real_qr = print_routes.qr_svg
    monkeypatch.setattr(print_routes, "qr_svg", lambda url: made.append(url) or real_qr(url))
    case = run(register(CLERK, "r63", name=NAME, id_number=RESIDENT_ID))
    as_user(CLERK)
    response = client.get(f"/t/r63/cases/{case['id']}/receipt")
    assert response.status_code == 200, response.text[:500]
    text = response.text
    assert case["number"] in text and case["lookup_code"] in text
    assert case["item_name"] in text and case["item_code"] in text
    assert NAME not in text and RESIDENT_ID not in text
    assert identity.mask_name(NAME) in text and identity.mask_id(RESIDENT_ID) in text
    url = f"https://bm.example.cn/t/r63/track?number={case['number']}&code={case['lookup_code']}"
    assert made == [url]  # the QR code encodes the public lookup address
    assert html.escape(url) in text  # and the address is printed under it
    assert '<svg viewBox="0 0' in text and 'class="qr-code"' in text
    assert "paper-a5" in text
    assert case["owner_name"] in text  # first-contact owner (首问负责)
    assert gettext("Acceptance receipt") in text
    assert gettext("Promised due date") in text and gettext("Legal due date") in text


def test_receipt_on_80mm_paper(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63"))
    as_user(CLERK)
    response = client.get(f"/t/r63/cases/{case['id']}/receipt?paper=80mm")
    assert response.status_code == 200
    assert "paper-80mm" in response.text and "paper-a5" not in response.text
    assert case["number"] in response.text and 'class="qr-code"' in response.text
    # an unknown paper size falls back to A5
    fallback = client.get(f"/t/r63/cases/{case['id']}/receipt?paper=legal")
    assert fallback.status_code == 200 and "paper-a5" in fallback.text


def test_no_receipt_before_acceptance(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63", missing=(0,)))
    assert case["state"] == "supplement"
    as_user(CLERK)
    assert client.get(f"/t/r63/cases/{case['id']}/receipt").status_code == 404
    # accepted after the supplement: now there is one
    scope, actor = run(scope_of(CLERK, "r63")), run(actor_of(CLERK))
    run(intake.update_materials(scope, case["id"], actor, {0: intake.MaterialCheck("received")}))
    run(intake.accept(scope, case["id"], actor))
    assert client.get(f"/t/r63/cases/{case['id']}/receipt").status_code == 200


def test_supervisor_reads_a_receipt_under_the_division(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63"))
    as_user("d4-liuhong")
    response = client.get(f"/t/d4/cases/{case['id']}/receipt")
    assert response.status_code == 200 and case["number"] in response.text


def test_receipt_of_another_centre_is_not_found(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63"))
    as_user("r68-guanchunmei")
    assert client.get(f"/t/r68/cases/{case['id']}/receipt").status_code == 404
    assert client.get(f"/t/r63/cases/{case['id']}/receipt").status_code == 404
    assert client.get("/t/r68/cases/999999999/receipt").status_code == 404


# --- documents ----------------------------------------------------------------------------


def _listed(text: str) -> list[str]:
    found = re.search(r'<ol class="missing">(.*?)</ol>', text, re.S)
    assert found, text[:800]
    return re.findall(r"<li><strong>(.*?)</strong>", found.group(1))


def test_notice_lists_exactly_the_missing_materials(client, as_user) -> None:  # type: ignore[no-untyped-def]
    item = run(ensure_adopted("r63", DIBAO))
    materials = [m["name"] for m in item["content"]["materials"]]
    case = run(register(CLERK, "r63", missing=(1, 3)))
    notice = _docs(CLERK, "r63", case["id"])[0]
    as_user(CLERK)
    response = client.get(f"/t/r63/cases/{case['id']}/documents/{notice['id']}")
    assert response.status_code == 200
    text = response.text
    assert _listed(text) == [html.escape(materials[1]), html.escape(materials[3])]
    assert notice["number"] in text and case["number"] in text
    assert papers.NOTICE_BASIS in text
    assert notice["body"]["deadline"] in text
    assert run(actor_of(CLERK)).name in text
    assert gettext("Second notice") not in text
    assert "paper-a4" in text
    a5 = client.get(f"/t/r63/cases/{case['id']}/documents/{notice['id']}?paper=a5")
    assert a5.status_code == 200 and "paper-a5" in a5.text


def test_second_notice_is_marked_with_its_new_fact(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63", missing=(0,)))
    scope, actor = run(scope_of(CLERK, "r63")), run(actor_of(CLERK))
    fact = "申请人称户口已迁出，需补交迁移证明"
    doc_id = run(intake.issue_notice(scope, case["id"], actor, reason=fact))
    as_user(CLERK)
    text = client.get(f"/t/r63/cases/{case['id']}/documents/{doc_id}").text
    assert gettext("Second notice") in text and fact in text


def test_refusal_states_the_rights(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case = run(register(CLERK, "r63", missing=(0,)))
    scope, actor = run(scope_of(CLERK, "r63")), run(actor_of(CLERK))
    doc_id = run(intake.refuse(scope, case["id"], actor, "申请事项不属于本中心受理范围"))
    as_user(CLERK)
    response = client.get(f"/t/r63/cases/{case['id']}/documents/{doc_id}")
    assert response.status_code == 200
    assert papers.RIGHTS in response.text
    assert "申请事项不属于本中心受理范围" in response.text
    assert gettext("Notice of non-acceptance") in response.text
    # a refused case was never accepted: no receipt
    assert client.get(f"/t/r63/cases/{case['id']}/receipt").status_code == 404


def test_approval_prints_with_its_seal(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case, doc = _decided("approved")
    as_user(MANAGER)
    response = client.get(f"/t/r63/cases/{case['id']}/documents/{doc['id']}")
    assert response.status_code == 200
    text = response.text
    assert gettext("Decision to grant an administrative licence") in text
    assert doc["number"] in text and doc["body"]["seal"] in text
    assert papers.RIGHTS not in text


def test_denial_prints_reason_and_rights(client, as_user) -> None:  # type: ignore[no-untyped-def]
    case, doc = _decided("denied", reason="家庭人均收入高于当地低保标准")
    as_user(CLERK)
    response = client.get(f"/t/r63/cases/{case['id']}/documents/{doc['id']}")
    assert response.status_code == 200
    text = response.text
    assert gettext("Decision not to grant an administrative licence") in text
    assert "家庭人均收入高于当地低保标准" in text and papers.RIGHTS in text


def test_document_of_another_case_or_centre_is_not_found(client, as_user) -> None:  # type: ignore[no-untyped-def]
    one = run(register(CLERK, "r63", missing=(0,)))
    two = run(register(CLERK, "r63", missing=(0,)))
    doc = _docs(CLERK, "r63", one["id"])[0]
    other = run(register("r68-guanchunmei", "r68", missing=(0,)))
    other_doc = _docs("r68-guanchunmei", "r68", other["id"])[0]
    as_user(CLERK)
    assert client.get(f"/t/r63/cases/{one['id']}/documents/{doc['id']}").status_code == 200
    assert client.get(f"/t/r63/cases/{two['id']}/documents/{doc['id']}").status_code == 404
    assert client.get(f"/t/r63/cases/{one['id']}/documents/{other_doc['id']}").status_code == 404
    url = f"/t/r63/cases/{other['id']}/documents/{other_doc['id']}"
    assert client.get(url).status_code == 404
    assert client.get(f"/t/r68/cases/{other['id']}/documents/{other_doc['id']}").status_code == 404
    assert client.get(f"/t/r63/cases/{one['id']}/documents/999999999").status_code == 404
