"""`make run`'s first start: demo links, centres that already offer their items, and months of
demo cases (tenants/demo/cases.toml) whose timelines, deadlines and numbers are consistent.

The demo is loaded once into a fresh SQLite file by the real command line (small:
``DEMO_CASES_SCALE``); the case checks then read that file in-process.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

SCALE = "0.2"  # of each centre's monthly volume; the fixed scenarios are all loaded


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VAR_DIR": str(tmp),
        "DATABASE_URL": "",
        "MAINTENANCE_DATABASE_URL": "",
        "DEMO_CASES_SCALE": SCALE,
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class Demo:
    var: Path
    stdout: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    tmp = tmp_path_factory.mktemp("demo")
    assert _run(tmp, "migrate").returncode == 0
    assert _run(tmp, "tenants", "apply", "tenants/").returncode == 0
    result = _run(tmp, "demo")
    assert result.returncode == 0, result.stderr
    return Demo(tmp, result.stdout)


def test_demo_prints_links_and_adopts_items(demo: Demo) -> None:
    assert demo.stdout.count("/password/set/") >= 7
    counts = dict(re.findall(r"(r63|r68|d4|c-huacheng) (\d+)", demo.stdout))
    assert set(counts) == {"d4", "r63", "r68", "c-huacheng"}
    assert all(int(n) > 5 for n in counts.values())
    assert re.search(r"Demo cases at r63: \d+", demo.stdout)
    assert re.search(r"Demo cases at r68: \d+", demo.stdout)


# --- the demo cases, read in-process from the demo's database -------------------------------


@pytest.fixture(scope="module")
def cases(demo: Demo) -> Iterator[dict[str, Any]]:
    """Every demo case with its timeline, documents, counters, ratings and seal usages."""
    from app import db
    from app.settings import settings

    db.use_url(f"sqlite:///{demo.var / 'bianmin.db'}")
    try:
        yield asyncio.run(_read())
    finally:
        db.use_url(settings.database_url)


async def _read() -> dict[str, Any]:
    from app.calendar import services as calendar
    from app.cases.queries import core
    from app.cases.tables import Case, CaseCounter, CaseDocument, Rating, Rectification, SealUsage
    from app.cases.timeline import yellow_days
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests: demo")
    rows = await Case.select(*core.CASE_COLUMNS).order_by(Case.id)
    timelines = await core.events_of_cases(scope, [r["id"] for r in rows])
    tenant_ids = {r["tenant_id"] for r in rows}
    return {
        "tree": tree,
        "cases": rows,
        "events": timelines,
        "calendars": {t: await calendar.load(scope, t) for t in tenant_ids},
        "margins": {t: await yellow_days(scope, t) for t in tenant_ids},
        "documents": await CaseDocument.select(
            CaseDocument.tenant, CaseDocument.kind, CaseDocument.number, CaseDocument.case
        ),
        "counters": await CaseCounter.select(
            CaseCounter.tenant, CaseCounter.series, CaseCounter.year, CaseCounter.value
        ),
        "ratings": await Rating.select(Rating.case, Rating.level),
        "rectifications": await Rectification.select(Rectification.case, Rectification.state).where(
            Rectification.source == "rating"
        ),
        "usages": await SealUsage.select(SealUsage.case, SealUsage.tenant, SealUsage.seal),
    }


def _by_centre(cases: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases["cases"]:
        out[case["tenant_slug"]].append(case)
    return out


def test_demo_cases_cover_every_state(cases: dict[str, Any]) -> None:
    by_centre = _by_centre(cases)
    assert set(by_centre) == {"r63", "r68"}
    for slug, rows in by_centre.items():
        states = Counter(r["state"] for r in rows)
        finished = states["concluded"] + states["delivered"]
        assert finished > len(rows) / 2, (slug, states)
        assert states["delivered"] > states["concluded"], (slug, states)
        assert states["accepted"] + states["review"] + states["decision"] > 0, (slug, states)
        assert states["refused"] > 0, (slug, states)
    everything = Counter(r["state"] for r in cases["cases"])
    for state in ("supplement", "accepted", "review", "decision", "concluded", "returned"):
        assert everything[state] > 0, (state, everything)


def test_demo_cases_cover_the_scenarios(cases: dict[str, Any]) -> None:
    rows = cases["cases"]
    open_rows = [r for r in rows if r["state"] in ("accepted", "review", "decision")]
    lights = Counter(r["light"] for r in open_rows)
    assert lights["green"] and lights["red"], lights
    assert sum(1 for r in open_rows if r["legal_exceeded"]) >= 2
    assert sum(1 for r in open_rows if r["paused"]) >= 2
    assert any(r["extended_halves"] for r in open_rows)
    closed = [r for r in rows if r["state"] in ("concluded", "delivered")]
    assert sum(1 for r in closed if r["on_time"]) > len(closed) * 0.7
    assert any(r["on_time"] is False for r in closed) or len(closed) < 20
    assert any(r["extended_halves"] for r in closed)
    assert any(r["notices"] >= 2 for r in rows)  # the justified second notice
    assert any(r["notices"] == 1 and r["state"] not in ("supplement", "refused") for r in rows)
    assert any(r["urgent"] for r in rows)
    assert {r["applicant_kind"] for r in rows} == {"person", "organisation"}
    events = cases["events"]
    paused = [e for ev in events.values() for e in ev if e["action"] == "paused"]
    assert paused and all(e["note"] and e["data"]["reason"] for e in paused)
    signed = [e for ev in events.values() for e in ev if e["action"] == "signed"]
    assert signed and all(e["data"]["department"] == "cl" for e in signed)
    # Escalated cases are decided in the division's queue with the division's seal.
    d4 = cases["tree"].by_slug["d4"].id
    escalated = [r for r in closed if r["kind"] == "escalated"]
    assert escalated
    for row in escalated:
        decided = [e for e in events[row["id"]] if e["action"] == "decided"]
        assert decided and decided[0]["actor_name"] in ("刘红", "叶尔兰·哈孜别克"), decided
    assert any(u["tenant_id"] == d4 for u in cases["usages"])
    # Every decision stamped once, in the ledger of the deciding centre.
    decided_ids = {r["id"] for r in closed if r["kind"] != "immediate"}
    assert sorted(u["case_id"] for u in cases["usages"]) == sorted(decided_ids)


def test_every_stored_deadline_equals_a_recompute_from_the_timeline(
    cases: dict[str, Any],
) -> None:
    from app.cases import deadlines

    assert cases["cases"]
    for case in cases["cases"]:
        tenant = case["tenant_id"]
        result = deadlines.compute(
            case["promised_halves"],
            case["legal_halves"],
            cases["events"][case["id"]],
            cases["calendars"][tenant],
            case["updated_at"],
            cases["margins"][tenant],
        )
        stored = {k: case[k] for k in result.columns()}
        assert stored == result.columns(), case["number"]


def test_numbers_are_gap_free_per_centre_series_and_year(cases: dict[str, Any]) -> None:
    counters = {(c["tenant_id"], c["series"], c["year"]): c["value"] for c in cases["counters"]}
    seqs: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for case in cases["cases"]:
        assert case["number"] == f"{case['tenant_slug'].upper()}-{case['year']}-{case['seq']:06d}"
        seqs[(case["tenant_id"], "case", case["year"])].append(case["seq"])
    slugs = {n.slug.upper(): n.id for n in cases["tree"].nodes.values()}
    kinds = {"GZ": "notice", "BSL": "refusal", "ZY": "approval", "BY": "denial"}
    for doc in cases["documents"]:
        found = re.fullmatch(r"([A-Z0-9-]+)-(GZ|BSL|ZY|BY)-(\d{4})-(\d{6})", doc["number"])
        assert found, doc["number"]
        assert kinds[found.group(2)] == doc["kind"]
        # Numbered by the centre that issued it (the division, for its decisions).
        key = (slugs[found.group(1)], doc["kind"], int(found.group(3)))
        seqs[key].append(int(found.group(4)))
    assert any(series == "notice" for _, series, _ in seqs)
    for key, values in seqs.items():
        assert sorted(values) == list(range(1, counters[key] + 1)), key


def test_demo_ids_pass_their_check_characters(cases: dict[str, Any]) -> None:
    from app.cases.identity import is_credit_code, is_resident_id

    for case in cases["cases"]:
        if case["id_kind"] == "resident_id":
            assert is_resident_id(case["id_number"]), case["id_number"]
        else:
            assert is_credit_code(case["id_number"]), case["id_number"]
    names = {c["applicant_name"] for c in cases["cases"]}
    assert any("·" in n for n in names)  # Uyghur and Kazakh names with the father's name


def test_ratings_and_the_rectification_ledger(cases: dict[str, Any]) -> None:
    rated = {r["case_id"] for r in cases["ratings"]}
    finished = [
        c for c in cases["cases"] if c["state"] in ("concluded", "delivered", "refused", "returned")
    ]
    assert all(c["rated"] == (c["id"] in rated) for c in cases["cases"])
    assert 0.3 * len(finished) < len(rated) < 0.9 * len(finished)
    levels = Counter(r["level"] for r in cases["ratings"])
    assert levels[5] + levels[4] > len(rated) / 2
    low = {r["case_id"] for r in cases["ratings"] if r["level"] <= 2}
    assert {r["case_id"] for r in cases["rectifications"]} == low
