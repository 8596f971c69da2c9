"""The demo inspections load through the real services: past submitted inspections of r63,
r68 and the community with findings in the ledger, one acknowledged, one planned ahead."""

from __future__ import annotations

from datetime import UTC, datetime

from app.cases.queries import ledger as ledger_queries
from app.inspections import demo
from app.inspections.queries import inspections as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.conftest import ROOT
from tests.inspections.helpers import run


def test_demo_inspections() -> None:
    tree = run(tenancy.tree())
    system = system_scope(tree, reason="tests: demo inspections")
    ids = [tree.by_slug[s].id for s in ("r63", "r68", "c-huacheng")]
    # Other modules of this worker inspect r63 too: the demo's rows are the new ones.
    before = {r["id"] for r in run(queries.inspections(system, ids, limit=500))}
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
    # loading again creates nothing new
    run(demo.load(ROOT / "tenants" / "demo"))
    assert len(run(queries.inspections(system, ids, limit=500))) == len(rows)
