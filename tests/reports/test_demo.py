"""The demo monthly reports (tenants/demo/reports.toml): a year of the seed form filed by
r63, r68 and c-huacheng and reviewed by the division, loaded by `make run`'s first start.

Like tests/test_demo.py, the demo is loaded into a fresh SQLite file by the real command
line (small: ``DEMO_CASES_SCALE``), never into the suite's shared database; the checks then
read that file in-process, and a second load must change nothing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.reports import demo as report_demo
from tests.conftest import ROOT

DEMO = ROOT / "tenants" / "demo"
PLAN = tomllib.loads((DEMO / "reports.toml").read_text(encoding="utf-8"))
CENTRES = ("r63", "r68", "c-huacheng")


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VAR_DIR": str(tmp),
        "DATABASE_URL": "",
        "MAINTENANCE_DATABASE_URL": "",
        "DEMO_CASES_SCALE": "0.2",
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
class Loaded:
    stdout: str
    now: datetime
    data: dict[str, Any]
    again: list[str]
    after: dict[str, int]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    from app import db
    from app.settings import settings

    tmp = tmp_path_factory.mktemp("demo-reports")
    assert _run(tmp, "migrate").returncode == 0
    assert _run(tmp, "tenants", "apply", "tenants/").returncode == 0
    result = _run(tmp, "demo")
    assert result.returncode == 0, result.stderr
    now = datetime.now(UTC)
    db.use_url(f"sqlite:///{tmp / 'bianmin.db'}")
    try:
        data = asyncio.run(_read())
        again = asyncio.run(report_demo.load_reports(DEMO))
        after = asyncio.run(_counts())
        yield Loaded(result.stdout, now, data, again, after)
    finally:
        db.use_url(settings.database_url)


async def _counts() -> dict[str, int]:
    from app.notify.tables import InboxItem
    from app.reports.tables import (
        ReportException,
        ReportPeriod,
        ReportValue,
        Submission,
        SubmissionEvent,
    )

    return {
        t.__name__: await t.count()
        for t in (
            ReportPeriod,
            Submission,
            SubmissionEvent,
            ReportException,
            ReportValue,
            InboxItem,
        )
    }


async def _read() -> dict[str, Any]:
    from app.notify.tables import InboxItem
    from app.reports.tables import ReportException, ReportPeriod, ReportValue, Submission
    from app.reports.tables import SubmissionEvent as Event
    from app.tenancy import queries as tenancy

    tree = await tenancy.tree()
    slugs = {n.id: n.slug for n in tree.nodes.values()}
    periods = {r["month"]: r for r in await ReportPeriod.select()}
    submissions = {}
    for row in await Submission.select().output(load_json=True):
        submissions[(slugs[row["tenant_id"]], row["month"])] = row
    events: dict[int, list[dict[str, Any]]] = {}
    for row in await Event.select().order_by(Event.id).output(load_json=True):
        events.setdefault(row["submission_id"], []).append(row)
    return {
        "tree": tree,
        "periods": periods,
        "submissions": submissions,
        "events": events,
        "exceptions": await ReportException.select(),
        "values": await ReportValue.select(),
        "inbox": await InboxItem.select().where(InboxItem.kind == "report"),
        "counts": await _counts(),
    }


PLANNED = {(e["centre"], e["months_ago"]): e for e in PLAN["events"]}
MANAGERS = {"r63": "周建国", "r68": "李国华", "c-huacheng": "吴静"}


# --- the plan's calendar (pure) ---------------------------------------------------------


def test_the_window_and_its_anchor_follow_today() -> None:
    now = datetime(2026, 11, 27, 4, tzinfo=UTC)
    months = report_demo.window(now, 12)
    assert months == [202511, 202512, *range(202601, 202611)]
    rows = {m: {"lock_on": date(m // 100 + (m % 100 == 12), m % 100 % 12 + 1, 10)} for m in months}
    assert report_demo.anchor(rows, now) == 202610
    early = datetime(2026, 12, 3, 4, tzinfo=UTC)  # 2026-11 is open (due the 5th): not the anchor
    months = report_demo.window(early, 12)
    assert months[-1] == 202611
    rows = {m: {"lock_on": date(m // 100 + (m % 100 == 12), m % 100 % 12 + 1, 10)} for m in months}
    assert report_demo.anchor(rows, early) == 202610
    assert report_demo.months_ago(202512, 202610) == 10


# --- the loaded demo ----------------------------------------------------------------------


def test_demo_prints_the_reports_line(loaded: Loaded) -> None:
    assert "Demo reports of " in loaded.stdout, loaded.stdout
    for slug in CENTRES:
        assert f"  {slug}: " in loaded.stdout


def test_periods_of_the_last_twelve_months(loaded: Loaded) -> None:
    months = report_demo.window(loaded.now, int(PLAN["months_back"]))
    assert sorted(loaded.data["periods"]) == months


def test_submissions_follow_the_plan(loaded: Loaded) -> None:
    data = loaded.data
    periods, subs, events = data["periods"], data["submissions"], data["events"]
    since = report_demo.anchor(periods, loaded.now)
    outcomes = {}
    for slug in CENTRES:
        for month in periods:
            if month > since:  # a period still open today: whatever was due before now
                row = subs.get((slug, month))
                assert row is None or row["status"] in ("draft", "submitted", "approved")
                continue
            ago = report_demo.months_ago(month, since)
            outcome = PLANNED.get((slug, ago), {}).get("outcome", "approved")
            outcomes[(slug, ago)] = outcome
            row = subs.get((slug, month))
            if outcome == "exception":
                assert row is None
                continue
            assert row is not None, (slug, month)
            history = [(e["action"], e["actor_name"]) for e in events.get(row["id"], [])]
            if outcome == "draft":
                assert row["status"] == "draft" and not history
                continue
            assert history[0] == ("submitted", MANAGERS[slug])
            assert row["on_time"] is (outcome != "late"), (slug, month, outcome)
            if outcome in ("approved", "late"):
                assert row["status"] == "approved" and row["revision"] == 1
                assert [a for a, _ in history] == ["submitted", "approved"]
                assert history[1][1] == "刘红"
            elif outcome == "submitted":
                assert row["status"] == "submitted" and len(history) == 1
            elif outcome == "returned":
                assert row["status"] == "returned"
                assert row["return_reason"] == "退回件数与台账不一致，请核实"
                assert [a for a, _ in history] == ["submitted", "returned"]
            elif outcome == "resubmitted":
                assert row["status"] == "approved" and row["revision"] == 2
                actions = [a for a, _ in history]
                assert actions == ["submitted", "returned", "submitted", "approved"]
                first, second = (e["data"] for e in events[row["id"]] if e["action"] == "submitted")
                assert first["values"]["returned"] != second["values"]["returned"]
                assert "returned" in first["corrections"]
            moments = [e["at"] for e in events.get(row["id"], [])]
            assert moments == sorted(moments) and moments[-1] < loaded.now
    # What the latest locked month shows the centres and the division.
    assert outcomes[("r63", 0)] == "submitted"
    assert outcomes[("r68", 0)] == "returned"
    assert outcomes[("c-huacheng", 0)] == "exception"
    assert {"late", "resubmitted", "draft"} <= set(outcomes.values())


def test_exactly_one_exception_until_a_few_days_from_today(loaded: Loaded) -> None:
    data = loaded.data
    (exception,) = data["exceptions"]
    assert exception["reason"] == "系统故障，准予补报"
    assert exception["tenant_id"] == data["tree"].by_slug["c-huacheng"].id
    since = report_demo.anchor(data["periods"], loaded.now)
    assert exception["period_id"] == data["periods"][since]["id"]
    today = loaded.now.date()
    assert 0 < (exception["until"] - today).days <= 6


def test_values_come_from_the_case_records_or_the_noted_paper_ledger(loaded: Loaded) -> None:
    subs = loaded.data["submissions"]
    from_cases = paper = 0
    for (slug, _month), row in subs.items():
        values, sources, notes = row["values"], row["sources"], row["corrections"]
        assert int(values["ab_posts"]) <= int(values["windows"])
        assert 3 <= int(values["staff"]) <= 8 and 2 <= int(values["windows"]) <= 6
        assert int(values["concluded"]) <= int(values["registered"]) + int(values["carried_over"])
        for key, source in sources.items():
            if source["value"] is None or key not in values:
                continue
            differs = Decimal(source["value"]) != Decimal(values[key])
            assert differs == bool(notes.get(key)), (slug, key)
        if notes:
            paper += 1
        elif int(values["registered"]) > 0:
            from_cases += 1
            assert values["registered"] == sources["registered"]["value"]
    assert from_cases and paper
    assert all("registered" in r["corrections"] for (s, _), r in subs.items() if s == "c-huacheng")


def test_one_planned_warning_is_explained(loaded: Loaded) -> None:
    (warning,) = PLAN["warnings"]
    explained = [
        r for r in loaded.data["submissions"].values() if r["comments"].get("registered_change")
    ]
    planned = [r for r in explained if r["comments"]["registered_change"] == warning["comment"]]
    assert len(planned) == 1
    assert planned[0]["tenant_id"] == loaded.data["tree"].by_slug[warning["centre"]].id


def test_roll_up_values_and_the_managers_inbox(loaded: Loaded) -> None:
    data = loaded.data
    subs = {r["id"]: r for r in data["submissions"].values()}
    for value in data["values"]:
        status = subs[value["submission_id"]]["status"]
        assert value["counted"] is (status != "returned"), status
    assert {v["submission_id"] for v in data["values"]} == {
        i for i, r in subs.items() if r["status"] != "draft"
    }
    # Old notices are read; the return of the latest month waits for r68's manager.
    latest = data["periods"][report_demo.anchor(data["periods"], loaded.now)]["id"]
    unread = [i for i in data["inbox"] if i["read_at"] is None]
    r68 = data["tree"].by_slug["r68"].id
    returned = [i for i in unread if i["tenant_id"] == r68 and i["link"].endswith(f"/{latest}")]
    assert returned and ("returned" in returned[0]["title"] or "退回" in returned[0]["title"])
    assert len(unread) < len(data["inbox"]) / 3


def test_a_second_load_changes_nothing(loaded: Loaded) -> None:
    assert len(loaded.again) == 1 and "already loaded" in loaded.again[0]
    assert loaded.after == loaded.data["counts"]
