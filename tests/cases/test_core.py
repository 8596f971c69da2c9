"""The core of intake: numbers, notice on incomplete materials, acceptance, immediate items."""

from __future__ import annotations

from app.cases import intake
from app.cases.queries import core
from tests.cases.helpers import DIBAO, MARRIAGE, actor_of, register, run, scope_of


def test_complete_materials_accept_with_due_dates() -> None:
    case = run(register("r63-guzailinuer", "r63"))
    assert case["state"] == "accepted"
    assert case["number"].startswith("R63-")
    assert case["promised_due_at"] is not None and case["legal_due_at"] is not None
    assert case["promised_due_at"] <= case["legal_due_at"]
    assert case["light"] in ("green", "yellow")
    assert case["light_changes_at"] is not None


def test_incomplete_materials_issue_one_notice_listing_all() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO, missing=(1, 3)))
    assert case["state"] == "supplement"
    scope = run(scope_of("r63-guzailinuer", "r63"))
    docs = run(core.documents(scope, case["id"]))
    assert [d["kind"] for d in docs] == ["notice"]
    assert [m["position"] for m in docs[0]["body"]["missing"]] == [1, 3]


def test_immediate_item_concludes_at_intake() -> None:
    case = run(register("r63-guzailinuer", "r63", MARRIAGE))
    assert case["state"] == "concluded"
    assert case["on_time"] is True


def test_second_notice_needs_a_reason() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO, missing=(0,)))
    scope = run(scope_of("r63-guzailinuer", "r63"))
    actor = run(actor_of("r63-guzailinuer"))
    try:
        run(intake.issue_notice(scope, case["id"], actor))
    except intake.workflow.WorkflowError as exc:
        assert exc.field == "reason"
    else:
        raise AssertionError("a second notice without a reason was issued")
    run(intake.issue_notice(scope, case["id"], actor, reason="申请人称户口已迁出，需补交迁移证明"))
    assert run(core.case(scope, case["id"]))["notices"] == 2


def test_whole_path_to_delivery() -> None:
    from datetime import date

    from app.cases import actions
    from tests.cases.helpers import ensure_seal

    case = run(register("r63-guzailinuer", "r63"))
    clerk = run(scope_of("r63-guzailinuer", "r63"))
    manager = run(scope_of("r63-zhoujianguo", "r63"))
    c_actor = run(actor_of("r63-guzailinuer"))
    m_actor = run(actor_of("r63-zhoujianguo"))
    run(actions.start_review(clerk, case["id"], c_actor))
    run(actions.submit(clerk, case["id"], c_actor))
    seal = run(ensure_seal("r63"))
    run(actions.decide(manager, case["id"], m_actor, "approved", seal))
    run(actions.deliver(clerk, case["id"], c_actor, "window", date.today(), "张三"))
    final = run(core.case(clerk, case["id"]))
    assert final["state"] == "delivered"
    assert final["on_time"] is True
    assert final["light"] == ""
