"""The window desk over HTTP: registration, the case page, every action form, files, gates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from app.calendar.workdays import SHANGHAI
from app.cases import workflow
from app.cases.queries import core
from app.cases.queries import desk as desk_queries
from app.web.i18n import gettext
from tests.cases.helpers import (
    DIBAO,
    RESIDENT_ID,
    ensure_adopted,
    ensure_seal,
    register,
    run,
    scope_of,
)
from tests.storage.conftest import pdf_bytes, png_bytes

CLERK, MANAGER = "r63-guzailinuer", "r63-zhoujianguo"
OTHER_CLERK = "r63-wanglin"
SUPERVISOR = "d4-liuhong"
ESCALATED = "011501000000"  # 危险化学品经营许可证核发: reviewed and decided by d4


# --- helpers ----------------------------------------------------------------------------------


def registration(item: dict[str, Any], token: str, **changes: Any) -> dict[str, Any]:
    """A complete registration form for ``item`` (every material received)."""
    data = {
        "csrf_token": token,
        "item_code": item["code"],
        "applicant_kind": "person",
        "applicant_name": "李四",
        "id_number": RESIDENT_ID,
        "phone": "13912345678",
        "contact_address": "六十三团一连",
        "channel": "window",
        "supplement_days": "5",
        "note": "",
    }
    for pos, material in enumerate(item["content"]["materials"]):
        conditional = material.get("requirement") == "conditional"
        data[f"m{pos}_status"] = "waived" if conditional else "received"
    data.update(changes)
    return data


def case_of(case_id: int, username: str = CLERK, slug: str = "r63") -> dict[str, Any]:
    found = run(core.case(run(scope_of(username, slug)), case_id))
    assert found is not None
    return found


def case_count(slug: str = "r63") -> int:
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    tree = run(tenancy.tree())
    system = system_scope(tree, reason="tests: count")
    counts = run(desk_queries.owner_counts(system, tree.by_slug[slug].id, workflow.STATES))
    return sum(counts.values())


def registered_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:3000]
    location = response.headers["location"]
    return int(location.split("/cases/")[1].split("?")[0])


def post(client: Any, token: str, case_id: int, action: str, **fields: Any) -> Any:
    data = {"csrf_token": token, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(f"/t/r63/cases/{case_id}/{action}", data=data)


def today() -> str:
    return datetime.now(SHANGHAI).date().isoformat()


# --- registration -----------------------------------------------------------------------------


def test_register_page_lists_items_and_materials(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    as_user(CLERK)
    page = client.get("/t/r63/cases/new")
    assert page.status_code == 200
    assert item["content"]["name"] in page.text
    assert gettext("Choose the item first: its materials appear here.") in page.text
    page = client.get(f"/t/r63/cases/new?item={DIBAO}")
    assert item["content"]["materials"][0]["name"] in page.text
    assert 'capture="environment"' in page.text and 'accept="image/*,application/pdf"' in page.text
    # htmx: the materials block alone, and the filter answers the picker alone.
    part = client.get(
        f"/t/r63/cases/new?item={DIBAO}", headers={"HX-Request": "true", "HX-Target": "materials"}
    )
    assert part.text.lstrip().startswith('<div id="materials"'), part.text[:200]
    part = client.get(
        "/t/r63/cases/new?q=zzzz-no-such",
        headers={"HX-Request": "true", "HX-Target": "item-picker"},
    )
    assert part.text.lstrip().startswith('<div id="item-picker"')
    assert item["content"]["name"] not in part.text


def test_register_happy_path_accepts_and_offers_the_receipt(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    case_id = registered_id(client.post("/t/r63/cases/new", data=registration(item, token)))
    case = case_of(case_id)
    assert case["state"] == "accepted" and case["applicant_name"] == "李四"
    page = client.get(f"/t/r63/cases/{case_id}?done=registered")
    assert page.status_code == 200
    assert gettext("Case registered.") in page.text
    assert f"/t/r63/cases/{case_id}/receipt" in page.text
    # Masked: neither the full ID nor the phone nor the name.
    assert RESIDENT_ID not in page.text and "13912345678" not in page.text
    assert "李*" in page.text
    assert case["owner_name"] in page.text  # first-contact owner


def test_bad_id_keeps_the_input_and_creates_nothing(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    before = case_count()
    bad = RESIDENT_ID[:-1] + "1"
    response = client.post(
        "/t/r63/cases/new", data=registration(item, token, id_number=bad, applicant_name="王五")
    )
    assert response.status_code == 422
    assert gettext("This is not a valid resident ID number: check the 18 characters.") in (
        response.text
    )
    assert 'value="王五"' in response.text and f'value="{bad}"' in response.text
    assert case_count() == before


def test_bad_id_with_a_file_says_to_choose_it_again(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    response = client.post(
        "/t/r63/cases/new",
        data=registration(item, token, id_number="123"),
        files={"m0_file": ("申请书.pdf", pdf_bytes(), "application/pdf")},
    )
    assert response.status_code == 422
    assert gettext("The files you chose were not saved: choose them again.") in response.text


def test_lower_case_x_is_accepted(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    case_id = registered_id(
        client.post(
            "/t/r63/cases/new", data=registration(item, token, id_number=RESIDENT_ID.lower())
        )
    )
    assert case_of(case_id)["id_number"] == RESIDENT_ID


def test_organisation_with_credit_code(client, as_user) -> None:
    from tests.cases.helpers import CREDIT_CODE

    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    data = registration(
        item, token, applicant_kind="organisation", applicant_name="某某公司", id_number=CREDIT_CODE
    )
    case_id = registered_id(client.post("/t/r63/cases/new", data=data))
    assert case_of(case_id)["id_kind"] == "credit_code"


def test_unknown_item_and_defective_without_reason_are_422(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    response = client.post("/t/r63/cases/new", data=registration(item, token, item_code="nope"))
    assert response.status_code == 422
    assert gettext("Choose an item this centre handles.") in response.text
    response = client.post(
        "/t/r63/cases/new", data=registration(item, token, m1_status="defective", m1_problem="")
    )
    assert response.status_code == 422
    name = item["content"]["materials"][1]["name"]
    assert gettext("Say what is wrong with “%(name)s”.", name=name) in response.text


def test_incomplete_materials_issue_the_notice(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    data = registration(
        item, token, m1_status="missing", m3_status="defective", m3_problem="缺签字"
    )
    case_id = registered_id(client.post("/t/r63/cases/new", data=data))
    case = case_of(case_id)
    assert case["state"] == "supplement"
    docs = run(core.documents(run(scope_of(CLERK, "r63")), case_id))
    assert [d["kind"] for d in docs] == ["notice"]
    assert [m["position"] for m in docs[0]["body"]["missing"]] == [1, 3]
    page = client.get(f"/t/r63/cases/{case_id}")
    assert f"/t/r63/cases/{case_id}/documents/{docs[0]['id']}" in page.text
    assert gettext("Print the one-time notice") in page.text
    assert f"/t/r63/cases/{case_id}/receipt" not in page.text  # not accepted yet


def test_register_needs_the_capability(client, as_user) -> None:
    as_user(SUPERVISOR)
    assert client.get("/t/d4/cases/new").status_code == 403


# --- the case page: masking, files --------------------------------------------------------------


def test_unmask_is_audited_and_gated(client, as_user) -> None:
    from app.accounts.queries import audit as audit_queries

    case = run(register(CLERK, "r63"))
    token = as_user(CLERK)
    page = client.get(f"/t/r63/cases/{case['id']}")
    assert gettext("Show in full") not in page.text
    assert (
        client.post(f"/t/r63/cases/{case['id']}/unmask", data={"csrf_token": token}).status_code
        == 403
    )
    token = as_user(MANAGER)
    response = client.post(
        f"/t/r63/cases/{case['id']}/unmask",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="applicant"')
    assert RESIDENT_ID in response.text and "13912345678" in response.text
    scope = run(scope_of(MANAGER, "r63"))
    entries = run(audit_queries.audit_entries(scope, case["tenant_id"], limit=20))
    assert any(
        e["action"] == "case.unmasked" and e["object_id"] == str(case["id"]) for e in entries
    )


def test_upload_to_a_material_and_download(client, as_user) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    data = registration(item, token, m2_status="missing")
    response = client.post(
        "/t/r63/cases/new",
        data=data,
        files=[
            ("m0_file", ("申请书.pdf", pdf_bytes("application"), "application/pdf")),
            ("m1_file", ("身份证.png", png_bytes(), "image/png")),
        ],
    )
    case_id = registered_id(response)
    files = run(desk_queries.files(run(scope_of(CLERK, "r63")), case_id))
    assert sorted(f["filename"] for f in files) == ["申请书.pdf", "身份证.png"]
    page = client.get(f"/t/r63/cases/{case_id}")
    link = f"/t/r63/cases/{case_id}/files/{files[0]['file_id']}"
    assert link in page.text
    # Supplement the missing material with a photo (the state stays supplement).
    response = client.post(
        f"/t/r63/cases/{case_id}/supplement",
        data={"csrf_token": token, "m2_status": "received"},
        files={"m2_file": ("户口簿.png", png_bytes(), "image/png")},
    )
    assert response.status_code == 303
    materials = run(core.materials(run(scope_of(CLERK, "r63")), case_id))
    assert materials[2]["status"] == "received"
    assert len(run(desk_queries.files(run(scope_of(CLERK, "r63")), case_id))) == 3
    # Another clerk of the centre may read the file.
    as_user(OTHER_CLERK)
    download = client.get(link)
    assert download.status_code == 200
    assert download.content in (pdf_bytes("application"), png_bytes())
    # A file of this case through another case's URL is a 404.
    other = run(register(CLERK, "r63"))
    assert client.get(f"/t/r63/cases/{other['id']}/files/{files[0]['file_id']}").status_code == 404
    # A refused upload (wrong type) is a 422 on its line, nothing recorded.
    token = as_user(CLERK)
    response = client.post(
        f"/t/r63/cases/{case_id}/supplement",
        data={"csrf_token": token},
        files={"m4_file": ("notes.txt", b"plain text", "text/plain")},
    )
    assert response.status_code == 422
    assert len(run(desk_queries.files(run(scope_of(CLERK, "r63")), case_id))) == 3


# --- every action through HTTP -------------------------------------------------------------------


def test_supplement_then_accept_review_submit_decide_deliver(client, as_user) -> None:
    seal = run(ensure_seal("r63"))
    case = run(register(CLERK, "r63", DIBAO, missing=(0,)))
    cid = case["id"]
    token = as_user(CLERK)
    # Accept while a material is still missing: 422 with the message in the accept form.
    response = post(client, token, cid, "accept")
    assert response.status_code == 422
    assert (
        gettext("Materials are still missing or defective: record them first, or issue a notice.")
        in response.text
    )
    # A second notice needs the new fact.
    response = post(client, token, cid, "notice", reason="", supplement_days="5")
    assert response.status_code == 422
    assert case_of(cid)["notices"] == 1
    response = post(client, token, cid, "notice", reason="申请人称户口已迁出", supplement_days="3")
    assert response.status_code == 303
    assert case_of(cid)["notices"] == 2
    response = client.post(
        f"/t/r63/cases/{cid}/supplement", data={"csrf_token": token, "m0_status": "received"}
    )
    assert response.status_code == 303
    assert post(client, token, cid, "accept", note="").status_code == 303
    assert case_of(cid)["state"] == "accepted"
    # htmx: the case body comes back.
    response = client.post(
        f"/t/r63/cases/{cid}/review",
        data={"csrf_token": token, "review-note": "开始审核"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="case-body"')
    assert case_of(cid)["state"] == "review"
    assert post(client, token, cid, "submit", note="").status_code == 303
    assert case_of(cid)["state"] == "decision"
    # The clerk may not decide.
    assert (
        post(client, token, cid, "decide", decision="approved", seal=str(seal)).status_code == 403
    )
    token = as_user(MANAGER)
    page = client.get(f"/t/r63/cases/{cid}")
    assert 'name="decide-seal"' in page.text
    response = post(client, token, cid, "decide", decision="denied", reason="", seal=str(seal))
    assert response.status_code == 422
    assert gettext("A denial states its reason.") in response.text
    response = post(client, token, cid, "decide", decision="approved", reason="", seal=str(seal))
    assert response.status_code == 303
    assert case_of(cid)["state"] == "concluded"
    token = as_user(CLERK)
    response = post(
        client, token, cid, "deliver", method="window", delivered_on=today(), recipient=""
    )
    assert response.status_code == 422
    response = post(
        client, token, cid, "deliver", method="window", delivered_on=today(), recipient="张三"
    )
    assert response.status_code == 303
    final = case_of(cid)
    assert final["state"] == "delivered" and final["delivery_recipient"] == "张三"
    page = client.get(f"/t/r63/cases/{cid}?done=deliver")
    assert str(workflow.EVENT_LABELS["decided"]) in page.text
    assert str(workflow.EVENT_LABELS["delivered"]) in page.text


def test_pause_resume_extend_return(client, as_user) -> None:
    case = run(register(CLERK, "r63"))
    cid = case["id"]
    token = as_user(CLERK)
    response = post(client, token, cid, "pause", reason="expert", note="")
    assert response.status_code == 422
    assert gettext("Describe the pause for the applicant.") in response.text
    assert post(client, token, cid, "pause", reason="expert", note="专家评审").status_code == 303
    assert case_of(cid)["paused"] is True
    page = client.get(f"/t/r63/cases/{cid}")
    assert str(workflow.PAUSE_REASONS["expert"]) in page.text
    assert f'action="/t/r63/cases/{cid}/resume"' in page.text
    assert post(client, token, cid, "resume", note="").status_code == 303
    assert case_of(cid)["paused"] is False
    # Extension: the clerk may not approve one; the manager may, within the cap.
    assert post(client, token, cid, "extend", days="5", reason="情况复杂").status_code == 403
    token = as_user(MANAGER)
    response = post(client, token, cid, "extend", days="11", reason="情况复杂")
    assert response.status_code == 422
    assert gettext("An extension is 1 to %(days)d working days.", days=10) in response.text
    assert post(client, token, cid, "extend", days="5", reason="情况复杂").status_code == 303
    assert case_of(cid)["extended_halves"] == 10
    page = client.get(f"/t/r63/cases/{cid}")
    assert f'action="/t/r63/cases/{cid}/extend"' not in page.text  # only once
    # Return needs its reason.
    token = as_user(CLERK)
    response = post(client, token, cid, "return", reason="")
    assert response.status_code == 422
    assert post(client, token, cid, "return", reason="申请人撤回").status_code == 303
    assert case_of(cid)["state"] == "returned"
    # A stale form (the case is already returned) is a 422, not a 500.
    assert post(client, token, cid, "review", note="").status_code == 422


def test_refuse_and_flags(client, as_user) -> None:
    case = run(register(CLERK, "r63", DIBAO, missing=(1,)))
    cid = case["id"]
    token = as_user(CLERK)
    assert post(client, token, cid, "flags", urgent="y").status_code == 303
    assert case_of(cid)["urgent"] is True
    assert post(client, token, cid, "refuse", reason="").status_code == 422
    assert post(client, token, cid, "refuse", reason="不属于本机关职权范围").status_code == 303
    refused = case_of(cid)
    assert refused["state"] == "refused"
    docs = run(core.documents(run(scope_of(CLERK, "r63")), cid))
    assert [d["kind"] for d in docs] == ["notice", "refusal"]


# --- gates, tenants, escalation, hand-over --------------------------------------------------------


def test_capability_gates(client, as_user) -> None:
    case = run(register(CLERK, "r63"))
    token = as_user(CLERK)
    assert client.get("/t/r63/cases/handover").status_code == 403
    assert (
        client.post(
            "/t/r63/cases/handover", data={"csrf_token": token, "from_user": "1"}
        ).status_code
        == 403
    )
    page = client.get(f"/t/r63/cases/{case['id']}")
    assert f'action="/t/r63/cases/{case["id"]}/extend"' not in page.text
    assert f'action="/t/r63/cases/{case["id"]}/review"' in page.text


@pytest.mark.parametrize("user", ["xa-clerk", "xa-manager"])
def test_another_tenants_case_is_not_found(client, as_user, user) -> None:
    case = run(register(CLERK, "r63"))
    cid = case["id"]
    files = run(desk_queries.files(run(scope_of(CLERK, "r63")), cid))
    token = as_user(user)
    for slug in ("xa", "r63"):
        assert client.get(f"/t/{slug}/cases/{cid}").status_code == 404
        for action in ("accept", "review", "decide", "unmask", "extend", "supplement"):
            response = client.post(f"/t/{slug}/cases/{cid}/{action}", data={"csrf_token": token})
            assert response.status_code == 404, (slug, action, response.status_code)
        assert (
            client.get(
                f"/t/{slug}/cases/{cid}/files/{files[0]['file_id'] if files else 1}"
            ).status_code
            == 404
        )
    assert client.get(f"/t/xa/cases/{cid + 100000}").status_code == 404


def test_escalated_case_is_worked_in_the_parents_queue(client, as_user) -> None:
    item = run(ensure_adopted("r63", ESCALATED))
    token = as_user(CLERK)
    response = client.post(
        "/t/r63/cases/new",
        data=registration(item, token),
        files={"m0_file": ("申请表.pdf", pdf_bytes("escalated"), "application/pdf")},
    )
    cid = registered_id(response)
    case = case_of(cid)
    assert case["state"] == "accepted" and case["queue_tenant_id"] != case["tenant_id"]
    files = run(desk_queries.files(run(scope_of(CLERK, "r63")), cid))
    page = client.get(f"/t/r63/cases/{cid}")
    assert f'action="/t/r63/cases/{cid}/review"' not in page.text
    token = as_user(SUPERVISOR)
    page = client.get(f"/t/d4/cases/{cid}")
    assert page.status_code == 200
    assert f'action="/t/d4/cases/{cid}/review"' in page.text
    assert f'action="/t/d4/cases/{cid}/accept"' not in page.text
    assert f'action="/t/d4/cases/{cid}/return"' not in page.text
    response = client.post(
        f"/t/d4/cases/{cid}/review", data={"csrf_token": token, "review-note": ""}
    )
    assert response.status_code == 303
    assert case_of(cid)["state"] == "review"
    # The parent's supervisor reads the material files of the escalated case …
    download = client.get(f"/t/d4/cases/{cid}/files/{files[0]['file_id']}")
    assert download.status_code == 200 and download.content == pdf_bytes("escalated")
    # … and may see the applicant in full (audited on the centre's log).
    response = client.post(f"/t/d4/cases/{cid}/unmask", data={"csrf_token": token})
    assert response.status_code == 200 and RESIDENT_ID in response.text


def test_hand_over(client, as_user) -> None:
    from app.accounts import queries as accounts

    first = run(register(OTHER_CLERK, "r63"))
    second = run(register(OTHER_CLERK, "r63"))
    leaving = run(accounts.user_by_username(OTHER_CLERK))
    taking = run(accounts.user_by_username(CLERK))
    token = as_user(MANAGER)
    page = client.get(f"/t/r63/cases/handover?from_user={leaving['id']}")
    assert page.status_code == 200 and first["number"] in page.text
    response = client.post(
        "/t/r63/cases/handover",
        data={
            "csrf_token": token,
            "from_user": str(leaving["id"]),
            "to_user": str(taking["id"]),
            "case": [str(first["id"])],
        },
    )
    assert response.status_code == 200, response.text[:2000]
    assert case_of(first["id"])["owner_id"] == taking["id"]
    assert case_of(second["id"])["owner_id"] == leaving["id"]
    events = run(core.events(run(scope_of(CLERK, "r63")), first["id"]))
    assert events[-1]["action"] == "handed_over"
    # Nothing chosen: 422.
    response = client.post(
        "/t/r63/cases/handover",
        data={"csrf_token": token, "from_user": str(leaving["id"]), "to_user": str(taking["id"])},
    )
    assert response.status_code == 422
    response = client.post(
        "/t/r63/cases/handover",
        data={
            "csrf_token": token,
            "from_user": str(leaving["id"]),
            "to_user": str(taking["id"]),
            "all": "1",
        },
    )
    assert response.status_code == 200
    assert case_of(second["id"])["owner_id"] == taking["id"]
