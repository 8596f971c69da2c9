"""The demo inspections load through the real services: past submitted inspections of r63,
r68 and the community with findings in the ledger, one acknowledged, one planned ahead; then
the month's 双随机 draws, the centres' answers to findings (one accepted by the inspector,
one awaiting verification), and a 督办 of a red-light case of r63 — none doubled by a
second load."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

from app.cases import lights
from app.cases.queries import core, ledger_flow
from app.cases.queries import ledger as ledger_queries
from app.inspections import demo
from app.inspections.queries import draws as draw_queries
from app.inspections.queries import inspections as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests.cases.helpers import DIBAO, register
from tests.conftest import ROOT
from tests.inspections.helpers import run

SPEC = tomllib.loads((ROOT / "tenants" / "demo" / "inspections.toml").read_text("utf-8"))


def _red_case_at_r63(system: TenantScope) -> int:
    """A case of r63 registered 40 days ago, red once the light sweep has run."""
    now = datetime.now(UTC).replace(microsecond=0)
    case = run(register("r63-guzailinuer", "r63", DIBAO, now=now - timedelta(days=40)))
    run(lights.move_lights(now))
    fresh = run(core.case(system, case["id"]))
    assert fresh is not None and fresh["light"] == "red", fresh
    return int(case["id"])


def _demo_state(system: TenantScope, ids: dict[str, int]) -> dict[str, Any]:
    """The draws with the demo's seeds and the 督办 items with the demo's note."""
    draws_spec, note = SPEC["draws"], SPEC["supervision"]["note"]
    centre_draws = [
        r
        for r in run(draw_queries.draws(system, [ids["d4"]], limit=500))
        if r["seed"] == draws_spec["centres_seed"]
    ]
    case_draws = [
        r
        for r in run(draw_queries.draws(system, [ids["r63"]], limit=500))
        if r["seed"] == draws_spec["cases_seed"]
    ]
    supervised = [
        r
        for r in run(
            ledger_queries.rectifications(
                system,
                [ids["r63"]],
                state="",
                source="supervision",
                now=datetime.now(UTC),
                limit=500,
            )
        )
        if r["detail"] == note
    ]
    return {"centres": centre_draws, "cases": case_draws, "supervised": supervised}


def test_demo_inspections() -> None:
    tree = run(tenancy.tree())
    system = system_scope(tree, reason="tests: demo inspections")
    ids = [tree.by_slug[s].id for s in ("r63", "r68", "c-huacheng")]
    # Other modules of this worker inspect r63 too: the demo's rows are the new ones.
    before = {r["id"] for r in run(queries.inspections(system, ids, limit=500))}
    _red_case_at_r63(system)  # so that r63 has a red case to supervise
    lines = run(demo.load(ROOT / "tenants" / "demo"))
    assert any("demo inspections loaded" in line for line in lines), lines
    rows = run(queries.inspections(system, ids, limit=500))
    demo_rows = [r for r in rows if r["id"] not in before]
    states = {r["state"] for r in demo_rows}
    assert {"submitted", "acknowledged", "planned"} <= states
    today = datetime.now(UTC).date()
    assert any(r["state"] == "planned" and r["planned_on"] > today for r in demo_rows)
    done = [r for r in demo_rows if r["state"] in ("submitted", "acknowledged")]
    assert len(done) >= 4
    assert {r["tenant_slug"] for r in done} >= {"r63", "r68", "c-huacheng"}
    for r in done:
        assert r["submitted_at"] < datetime.now(UTC)
        assert 0 < r["percent"] <= 100
        findings = run(queries.findings(system, r["id"]))
        assert 1 <= len(findings) <= 3
        for f in findings:
            item = run(ledger_queries.rectification(system, f["rectification_id"]))
            assert item is not None and item["source"] == "finding"
    slugs = {s: tree.by_slug[s].id for s in ("d4", "r63")}
    _check_followups(system, lines, slugs, {r["id"] for r in done})
    first = _demo_state(system, slugs)
    # loading again creates nothing new
    again = run(demo.load(ROOT / "tenants" / "demo"))
    assert len(run(queries.inspections(system, ids, limit=500))) == len(rows)
    second = _demo_state(system, slugs)
    assert [r["id"] for r in second["centres"]] == [r["id"] for r in first["centres"]]
    assert [r["id"] for r in second["cases"]] == [r["id"] for r in first["cases"]]
    assert [r["id"] for r in second["supervised"]] == [r["id"] for r in first["supervised"]]
    assert any("already supervised" in line for line in again), again
    answers = next(line for line in lines if line.startswith("Demo rectification answers"))
    assert answers in again  # nothing answered or verified twice


def _check_followups(
    system: TenantScope, lines: list[str], ids: dict[str, int], done: set[int]
) -> None:
    state = _demo_state(system, ids)
    # 双随机: one centres draw of next month by the division's inspector, reproducible.
    assert any(line.startswith("Demo draws at d4: centres draw seed") for line in lines), lines
    assert len(state["centres"]) == 1
    draw = state["centres"][0]
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert draw["month"] == next_month.year * 100 + next_month.month
    assert draw["kind"] == "centres" and draw["created_by_name"] == "刘红"
    assert len(draw["result"]["centres"]) == SPEC["draws"]["centres"]
    assert all(
        len(c["inspectors"]) == SPEC["draws"]["inspectors"] for c in draw["result"]["centres"]
    )
    assert all(c["centre"] in draw["pool"]["centres"] for c in draw["result"]["centres"])
    # The file review draws from r63's cases concluded last month — when there are any.
    end = today.replace(day=1) - timedelta(days=1)
    since = datetime(end.year, end.month, 1, tzinfo=UTC) - timedelta(hours=8)
    until = datetime(today.year, today.month, 1, tzinfo=UTC) - timedelta(hours=8)
    concluded = run(draw_queries.concluded_cases(system, ids["r63"], since, until))
    if concluded:
        assert len(state["cases"]) == 1
        picked = state["cases"][0]["result"]["cases"]
        assert len(picked) == min(3, len(concluded))
        assert set(picked) <= {r["id"] for r in concluded}
    else:
        assert state["cases"] == []
        assert any("r63 file review skipped" in line for line in lines), lines
    # Answers: the demo's finding items by state.
    items = []
    for inspection_id in done:
        for f in run(queries.findings(system, inspection_id)):
            items.append(run(ledger_queries.rectification(system, f["rectification_id"])))
    by_state: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_state.setdefault(item["state"], []).append(item)
    now = datetime.now(UTC)
    assert len(by_state["closed"]) == 1 and by_state["closed"][0]["outcome"] == "resolved"
    assert len(by_state["fixed"]) == 1
    open_items = by_state["open"]
    assert any(i["due_at"] < now for i in open_items)  # overdue
    assert any(i["due_at"] > now for i in open_items)  # still in time
    for item in (*by_state["closed"], *by_state["fixed"]):
        steps = run(ledger_flow.steps(system, item["id"]))
        kinds = [s["kind"] for s in steps]
        assert kinds[:2] == ["opened", "answer"]
        assert item["fixed_at"] > item["opened_at"] and item["fixed_at"] < now
        evidence = run(ledger_flow.evidence(system, item["id"]))
        assert len(evidence) == 1
    closed = by_state["closed"][0]
    assert [s["kind"] for s in run(ledger_flow.steps(system, closed["id"]))] == [
        "opened",
        "answer",
        "accept",
    ]
    assert closed["fixed_at"] < closed["closed_at"] < now
    # 督办: one item with the demo's note on a red case of r63.
    assert len(state["supervised"]) == 1
    supervised = state["supervised"][0]
    case = run(core.case(system, supervised["case_id"]))
    assert case is not None and case["tenant_slug"] == "r63" and case["light"] == "red"
    assert supervised["state"] == "open" and supervised["opened_at"] < now
    assert any(line.startswith("Demo 督办 at r63: red-light case") for line in lines), lines
