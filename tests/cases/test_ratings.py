"""好差评: one rating per finished case; a low one needs a reason and opens a ledger item."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape
from starlette.testclient import TestClient

from app.accounts import queries as accounts
from app.cases import intake, ledger, ratings
from app.cases.queries import core
from app.cases.queries import ledger as ledger_queries
from app.cases.queries import public as public_queries
from app.notify import queries as notify
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope, user_scope
from app.web.i18n import gettext
from tests.cases.helpers import DIBAO, MARRIAGE, actor_of, register, run, scope_of
from tests.cases.test_tracking import public_client, token_of


def rate(
    client: TestClient,
    case: dict[str, Any],
    level: int | str,
    reasons: tuple[str, ...] = (),
    comment: str = "",
    slug: str = "r63",
) -> Any:
    return client.post(
        f"/t/{slug}/track/rate",
        data={
            "csrf_token": token_of(client, slug),
            "number": case["number"],
            "code": case["lookup_code"],
            "channel": "receipt",
            "level": str(level),
            "reasons": list(reasons),
            "comment": comment,
        },
    )


def concluded(slug: str = "r63", clerk: str = "r63-guzailinuer") -> dict[str, Any]:
    """An immediate item: concluded at intake."""
    case = run(register(clerk, slug, MARRIAGE))
    assert case["state"] == "concluded"
    return case


async def _state(case_id: int) -> dict[str, Any]:
    scope = system_scope(await tenancy.tree(), reason="tests: ratings")
    return {
        "case": await core.case(scope, case_id),
        "rating": await public_queries.rating_of_case(scope, case_id),
        "events": await core.events(scope, case_id),
        "items": [
            r
            for r in await ledger_queries.rectifications(
                scope, list(scope.read_ids), state="all", now=ledger.utcnow(), limit=10_000
            )
            if r["case_id"] == case_id
        ],
    }


def test_rate_once_and_a_second_rating_is_refused() -> None:
    case = concluded()
    with public_client() as client:
        page = client.get(f"/t/r63/track?number={case['number']}&code={case['lookup_code']}")
        assert page.status_code == 200
        assert 'action="/t/r63/track/rate"' in page.text  # the rating form is offered
        first = rate(client, case, 5)
        assert first.status_code == 200, first.text[:600]
        thanks = escape(gettext("Thank you for your rating. It goes to the centre's manager."))
        assert thanks in first.text
        assert 'action="/t/r63/track/rate"' not in first.text
        second = rate(client, case, 1, ("attitude",))
        assert second.status_code == 409
        assert gettext("This case has already been rated. Thank you.") in second.text
    state = run(_state(case["id"]))
    assert state["case"]["rated"] is True
    assert state["rating"]["level"] == 5 and state["rating"]["channel"] == "receipt"
    rated = [e for e in state["events"] if e["action"] == "rated"]
    assert len(rated) == 1 and rated[0]["actor_id"] is None
    assert state["items"] == []  # a good rating opens nothing


def test_the_service_refuses_a_second_rating_cleanly() -> None:
    case = concluded()

    async def twice() -> str:
        tree = await tenancy.tree()
        data = ratings.clean("4", [], "", "lookup")
        await ratings.rate(None, tree, case, data)
        try:
            await ratings.rate(None, tree, case, data)
        except ratings.RatingError as exc:
            assert exc.conflict
            return exc.message
        raise AssertionError("a second rating was stored")

    assert run(twice()) == gettext("This case has already been rated. Thank you.")


def test_low_rating_needs_a_reason_and_keeps_the_input() -> None:
    case = concluded()
    with public_client() as client:
        page = rate(client, case, 2, (), "等了很久没人理")
        assert page.status_code == 422
        assert gettext("Tell us at least one reason you are not satisfied.") in page.text
        assert "等了很久没人理" in page.text
        assert re.search(
            r'<input checked id="level-\d" name="level" type="radio" value="2">', page.text
        )
        only_other = rate(client, case, 1, ("other",))
        assert only_other.status_code == 422
        no_level = rate(client, case, "9")
        assert no_level.status_code == 422
    assert run(_state(case["id"]))["rating"] is None


def test_low_rating_opens_a_ledger_item_and_tells_the_manager() -> None:
    case = concluded()
    manager = run(accounts.user_by_username("r63-zhoujianguo"))
    assert manager is not None
    before = len(run(notify.inbox(user_scope(manager["id"]))))
    with public_client() as client:
        page = rate(client, case, 1, ("slow", "many_trips"), "跑了三趟")
        assert page.status_code == 200, page.text[:600]
    state = run(_state(case["id"]))
    assert state["rating"]["reasons"] == ["slow", "many_trips"]
    [item] = state["items"]
    assert item["source"] == "rating" and item["source_id"] == state["rating"]["id"]
    assert item["state"] == "open"
    assert item["owner_id"] == manager["id"]
    assert case["number"] in item["title"]
    assert "跑了三趟" in item["detail"]
    # Due 5 working days (10 sessions) after the rating, on the centre's calendar.
    tree = run(tenancy.tree())
    scope = system_scope(tree, reason="tests")
    expected = run(ledger.due_in(scope, case["tenant_id"], state["rating"]["rated_at"], 10))
    assert item["due_at"] == expected
    inbox = run(notify.inbox(user_scope(manager["id"])))
    assert len(inbox) == before + 1
    assert inbox[0]["link"] == f"/t/r63/rectifications/{item['id']}"
    assert case["number"] in inbox[0]["title"]


def test_open_cases_cannot_be_rated() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO))
    assert case["state"] == "accepted"
    with public_client() as client:
        page = rate(client, case, 5)
    assert page.status_code == 409
    assert run(_state(case["id"]))["rating"] is None


def test_a_refused_application_may_be_rated() -> None:
    case = run(register("r63-guzailinuer", "r63", DIBAO, missing=(0,)))
    clerk = run(scope_of("r63-guzailinuer", "r63"))
    run(intake.refuse(clerk, case["id"], run(actor_of("r63-guzailinuer")), "不属于受理范围"))
    with public_client() as client:
        page = rate(client, case, 2, ("policy",))
    assert page.status_code == 200, page.text[:600]
    assert len(run(_state(case["id"]))["items"]) == 1


def test_rating_rechecks_the_code() -> None:
    case = concluded()
    with public_client() as client:
        page = client.post(
            "/t/r63/track/rate",
            data={
                "csrf_token": token_of(client, "r63"),
                "number": case["number"],
                "code": "000000" if case["lookup_code"] != "000000" else "000001",
                "level": "5",
            },
        )
    assert page.status_code == 422
    assert run(_state(case["id"]))["rating"] is None
