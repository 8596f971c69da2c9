"""Random draws (双随机): reproducible from the recorded seed and pool, different seeds draw
differently, the pool is the division's subtree (never the division itself), inspectors from
its active supervisors, members of a centre left out when asked; case draws for a file review."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.inspections import draws
from app.inspections.queries import draws as queries
from app.tenancy import queries as tenancy
from tests import reliability
from tests.cases.helpers import MARRIAGE, register, scope_of
from tests.conftest import login
from tests.inspections.test_checklists_routes import ensure_x2


def test_pick_is_reproducible_and_seed_dependent() -> None:
    pool = list(range(1, 101))
    first = draws.pick("abc", "centres", pool, 10)
    assert first == draws.pick("abc", "centres", list(reversed(pool)), 10)  # sorted pool
    assert first == sorted(first) and len(set(first)) == 10 and set(first) <= set(pool)
    assert draws.pick("abd", "centres", pool, 10) != first
    assert draws.pick("abc", "inspectors:1", pool, 10) != first
    assert draws.pick("abc", "x", [3, 1], 5) == [1, 3]  # asked for more than there are


def test_run_centres_respects_exclusions() -> None:
    pool = {"centres": [10, 11, 12, 13], "inspectors": [1, 2, 3], "exclude": {"10": [1, 2]}}
    result = draws.run_centres("s", pool, 4, 2)
    assert [r["centre"] for r in result["centres"]] == [10, 11, 12, 13]
    by_centre = {r["centre"]: r["inspectors"] for r in result["centres"]}
    assert by_centre[10] == [3]  # only one left
    assert all(len(v) == 2 for c, v in by_centre.items() if c != 10)
    assert draws.run_centres("s", pool, 4, 2) == result


async def test_a_centres_draw_is_stored_and_verifies() -> None:
    scope = await scope_of("d4-liuhong", "d4")
    tree = await tenancy.tree()
    d4 = tree.by_slug["d4"].id
    ask = draws.CentresAsk(month="2026-12", centres="3", inspectors="1", seed="fixed-seed-1")
    first_id = await draws.draw_centres(scope, tree, d4, ask)
    second_id = await draws.draw_centres(scope, tree, d4, ask)
    first = await queries.draw(scope, first_id)
    second = await queries.draw(scope, second_id)
    assert first is not None and second is not None
    assert first["seed"] == "fixed-seed-1" and first["month"] == 202612
    assert first["result"] == second["result"] and first["pool"] == second["pool"]
    assert draws.matches(first)
    candidates = first["pool"]["centres"]
    assert d4 not in candidates and candidates == sorted(candidates)
    for slug in ("r63", "r68", "xa", "xb"):
        assert tree.by_slug[slug].id in candidates
    assert all(tree.nodes[c].kind in ("regiment", "community") for c in candidates)
    supervisors = {r["user_id"] for r in await queries.supervisors(scope, d4)}
    assert set(first["pool"]["inspectors"]) == supervisors and len(supervisors) >= 2
    assert len(first["result"]["centres"]) == 3
    for row in first["result"]["centres"]:
        assert row["centre"] in candidates and len(row["inspectors"]) == 1
        assert set(row["inspectors"]) <= supervisors
    # Tampering with the stored result is caught by the verification.
    forged = {**first, "result": {"centres": first["result"]["centres"][:2]}}
    assert not draws.matches(forged)
    # A new seed each time unless given.
    other = await draws.draw_centres(
        scope, tree, d4, draws.CentresAsk(month="2026-12", centres="3", inspectors="1")
    )
    other_draw = await queries.draw(scope, other)
    assert other_draw is not None and re.fullmatch(r"[0-9a-f]{16}", other_draw["seed"])


async def test_bad_asks_are_refused_by_field() -> None:
    scope = await scope_of("d4-liuhong", "d4")
    tree = await tenancy.tree()
    d4 = tree.by_slug["d4"].id
    with pytest.raises(draws.DrawError) as caught:
        await draws.draw_centres(
            scope,
            tree,
            d4,
            draws.CentresAsk(month="2026-13", centres="0", inspectors="99", seed="a b"),
        )
    assert set(caught.value.problems) == {"month", "centres", "inspectors", "seed"}
    with pytest.raises(draws.DrawError) as caught:
        await draws.draw_cases(
            scope,
            tree,
            d4,
            draws.CasesAsk(centre="d4", date_from="x", date_to="2026-01-01", cases="0"),
        )
    assert set(caught.value.problems) == {"centre", "date_from", "cases"}


async def test_a_case_draw_of_a_centre() -> None:
    when = datetime(2025, 3, 11, 3, 0, tzinfo=UTC)
    made = [(await register("xa-clerk", "xa", MARRIAGE, now=when))["id"] for _ in range(4)]
    scope = await scope_of("d4-liuhong", "d4")
    tree = await tenancy.tree()
    d4, xa = tree.by_slug["d4"].id, tree.by_slug["xa"].id
    ask = draws.CasesAsk(
        centre="xa", date_from="2025-03-11", date_to="2025-03-11", cases="3", seed="file-1"
    )
    draw_id = await draws.draw_cases(scope, tree, d4, ask)
    draw = await queries.draw(scope, draw_id)
    assert draw is not None and draw["tenant_id"] == xa and draw["kind"] == "cases"
    assert set(made) <= set(draw["pool"]["cases"])
    assert len(draw["result"]["cases"]) == 3 and set(draw["result"]["cases"]) <= set(
        draw["pool"]["cases"]
    )
    assert draws.matches(draw)
    assert draw["result"] == draws.run_cases("file-1", {"cases": draw["pool"]["cases"]}, 3)
    with pytest.raises(draws.DrawError):
        await draws.draw_cases(
            scope,
            tree,
            d4,
            draws.CasesAsk(centre="xa", date_from="2001-01-01", date_to="2001-01-31", cases="3"),
        )


# --- the browser --------------------------------------------------------------------------


def test_draw_pages(client: Any) -> None:
    token = login(client, "d4-liuhong")
    assert client.get("/t/d4/draws").status_code == 200
    response = client.post(
        "/t/d4/draws",
        data={
            "csrf_token": token,
            "kind": "centres",
            "month": "2027-01",
            "centres": "2",
            "inspectors": "1",
            "exclude_members": "y",
            "seed": "page-seed-42",
        },
    )
    assert response.status_code == 303, response.text[:1000]
    url = response.headers["location"]
    page = client.get(url)
    assert page.status_code == 200
    assert "page-seed-42" in page.text
    assert "/t/d4/inspections/new?centre=" in html.unescape(page.text)
    assert "&draw=" in html.unescape(page.text) and "on=2027-01-01" in html.unescape(page.text)
    verified = client.get(f"{url}?verify=1")
    assert verified.status_code == 200 and 'id="verify-result"' in verified.text
    assert 'class="alert ok"' in verified.text
    # The same seed from the page again gives the same centres.
    again = client.post(
        "/t/d4/draws",
        data={
            "csrf_token": token,
            "kind": "centres",
            "month": "2027-01",
            "centres": "2",
            "inspectors": "1",
            "exclude_members": "y",
            "seed": "page-seed-42",
        },
    )
    result = re.search(r'id="draw-result">(.*?)</ul>', page.text, re.S)
    result_again = re.search(
        r'id="draw-result">(.*?)</ul>', client.get(again.headers["location"]).text, re.S
    )
    assert result and result_again
    strip = lambda s: re.sub(r"draw=\d+", "", s)  # noqa: E731
    assert strip(result.group(1)) == strip(result_again.group(1))
    listed = client.get("/t/d4/draws")
    assert "page-seed-42" in listed.text


def test_draw_form_errors_keep_the_input(client: Any) -> None:
    token = login(client, "d4-liuhong")
    response = client.post(
        "/t/d4/draws",
        data={
            "csrf_token": token,
            "kind": "centres",
            "month": "2027-13",
            "centres": "2",
            "inspectors": "1",
            "seed": "kept seed!",
        },
    )
    assert response.status_code == 422
    assert 'value="kept seed!"' in response.text and 'value="2027-13"' in response.text
    response = client.post(
        "/t/d4/draws",
        data={
            "csrf_token": token,
            "kind": "cases",
            "centre": "xa",
            "date_from": "2027-01-31",
            "date_to": "2027-01-01",
            "cases": "7",
            "case_seed": "z",
        },
    )
    assert response.status_code == 422 and 'value="7"' in response.text


async def test_draws_across_tenants(client: Any) -> None:
    x2 = await ensure_x2()
    tree = await tenancy.tree()
    import dataclasses

    from app.tenancy.scope import system_scope

    x2_scope = dataclasses.replace(await scope_of("x2-supervisor", "x2"), tenant_id=x2)
    x2_draw = (
        await draws.draw_centres(
            x2_scope, tree, x2, draws.CentresAsk(month="2027-02", centres="1", inspectors="1")
        )
        if draws.centre_candidates(tree, x2)
        else None
    )
    if x2_draw is None:  # x2 has no centre: a case-less draw row written directly
        from app import db

        system = system_scope(tree, reason="test")
        async with db.write(system):
            x2_draw = await queries.insert_draw(
                system,
                x2,
                kind="centres",
                month=202702,
                seed="CANARYB",
                params={"centres": 1, "inspectors": 1},
                pool={"centres": [], "inspectors": []},
                result={"centres": []},
            )
    d4_scope = await scope_of("d4-liuhong", "d4")
    mine = await draws.draw_centres(
        d4_scope,
        tree,
        tree.by_slug["d4"].id,
        draws.CentresAsk(month="2027-02", centres="1", inspectors="1"),
    )
    login(client, "d4-liuhong")
    assert client.get(f"/t/d4/draws/{mine}").status_code == 200
    assert reliability.cross_tenant(client.get(f"/t/d4/draws/{x2_draw}")).status_code == 404
    listing = reliability.cross_tenant(
        client.get("/t/d4/draws"), shows=f'/draws/{x2_draw}"', listing=True
    )
    assert f'/draws/{x2_draw}"' not in listing.text
    assert client.get("/t/r63/draws").status_code == 404  # not at a centre
    login(client, "xa-manager")
    assert client.get("/t/xa/draws").status_code == 403
    assert client.get(f"/t/xa/draws/{mine}").status_code == 403
    login(client, "x2-supervisor")
    assert reliability.cross_tenant(client.get(f"/t/x2/draws/{mine}")).status_code == 404
    assert client.get(f"/t/x2/draws/{x2_draw}").status_code == 200
