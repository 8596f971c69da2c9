"""Filing a monthly report: pre-fill, drafts, rules, submission, lock and exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from piccolo.querystring import QueryString

from app import db
from app.cases import stats
from app.reports import filing, periods, review
from app.reports.queries import rollup
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.cases.helpers import register
from tests.reports.helpers import (
    filled,
    manager_scope,
    notes,
    open_period,
    run,
    scope_of,
    seed_form,
)

# Each test uses its own month so that they do not depend on each other's submissions.


async def _count(sql: str, *args: object) -> int:
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: count")
    async with db.read(system):
        rows = await db.engine().run_querystring(QueryString(sql, *args))
    return int(next(iter(rows[0].values())) or 0)


def test_prefill_equals_an_independent_count_of_the_cases() -> None:
    async def go() -> None:
        now = datetime.now(UTC)
        month = periods.month_of(periods.local_today(now))
        for _ in range(3):
            await register("r63-wanglin", "r63")
        await stats.refresh()
        period = await open_period(month)
        scope = await scope_of("r63-zhoujianguo", "r63")
        report = await filing.load(scope, period["id"])
        start, end = (
            periods.end_of(date(month // 100, month % 100, 1) - timedelta(days=1)),
            periods.end_of(periods.opening_day(month) - timedelta(days=1)),
        )
        registered = await _count(
            "SELECT COUNT(*) AS n FROM service_case WHERE tenant_id = {}"
            " AND registered_at >= {} AND registered_at < {}",
            scope.own(),
            start,
            end,
        )
        assert registered >= 3
        assert report.sources["registered"]["value"] == str(registered)
        assert report.values["registered"] == str(registered)
        urgent = await _count(
            "SELECT COUNT(*) AS n FROM service_case WHERE tenant_id = {} AND urgent"
            " AND registered_at >= {} AND registered_at < {}",
            scope.own(),
            start,
            end,
        )
        assert report.sources["urgent"]["value"] == str(urgent)

    run(go())


def test_draft_keeps_what_was_typed_and_submit_needs_the_rules() -> None:
    async def go() -> None:
        period = await open_period(202701)
        scope = await manager_scope("xa")
        report = await filing.load(scope, period["id"])
        values = filled(report, registered="10", carried_over="0", concluded="12", staff="abc")
        result = await filing.save(
            scope, report, values, corrections={}, comments={}, lock_version=0
        )
        assert "staff" in result.field_errors
        report = await filing.load(scope, period["id"])
        assert report.submission is not None and report.submission["status"] == "draft"
        assert report.values["staff"] == "abc" or "staff" not in report.values
        with pytest.raises(filing.FilingError) as refused:
            await filing.submit(
                scope,
                report,
                values,
                corrections={"registered": "x", "carried_over": "x"},
                comments={},
                lock_version=report.lock_version,
            )
        check = refused.value.check
        assert check is not None
        assert [r.key for r in check.blocking] == ["concluded_within"]
        # Fixed: concluded within registered + carried over; the centre corrected sources.
        notes = {
            k: "按实际台账更正" for k in ("registered", "concluded", "on_time", "carried_over")
        }
        values.update(concluded="8", on_time="8", staff="3")
        await filing.submit(
            scope, report, values, corrections=notes, comments={}, lock_version=report.lock_version
        )
        report = await filing.load(scope, period["id"])
        assert report.submission is not None
        assert report.submission["status"] == "submitted"
        assert report.submission["revision"] == 1
        assert report.submission["corrections"]["registered"] == "按实际台账更正"
        assert not report.access.editable

    run(go())


def test_a_warning_needs_a_comment() -> None:
    async def go() -> None:
        first = await open_period(202702)
        second = await open_period(202703)
        scope = await manager_scope("xb")
        report = await filing.load(scope, first["id"])
        values = filled(report, registered="100", carried_over="0", concluded="0")
        await filing.submit(
            scope,
            report,
            values,
            corrections={"registered": "台账", "carried_over": "台账"},
            comments={},
            lock_version=0,
        )
        report = await filing.load(scope, second["id"])
        assert report.previous is not None and report.previous["registered"] == "100"
        values = filled(report, registered="20", carried_over="0", concluded="0")
        with pytest.raises(filing.FilingError) as refused:
            await filing.submit(
                scope,
                report,
                values,
                corrections={"registered": "台账", "carried_over": "台账"},
                comments={},
                lock_version=0,
            )
        assert refused.value.check is not None
        assert [r.key for r in refused.value.check.warnings] == ["registered_change"]
        assert not refused.value.check.blocking
        await filing.submit(
            scope,
            report,
            values,
            corrections={"registered": "台账", "carried_over": "台账"},
            comments={"registered_change": "春节假期办件量下降"},
            lock_version=0,
        )

    run(go())


def test_locked_period_and_exception() -> None:
    async def go() -> None:
        period = await open_period(202504)
        scope = await manager_scope("xa")
        report = await filing.load(scope, period["id"])
        assert report.access.locked and not report.access.editable
        with pytest.raises(filing.FilingError):
            await filing.save(
                scope, report, filled(report), corrections={}, comments={}, lock_version=0
            )
        tree = await tenancy.tree()
        division = await scope_of("d4-liuhong", "d4")
        with pytest.raises(review.ReviewError):
            await review.grant_exception(
                None,
                tree,
                division,
                period["id"],
                scope.own(),
                "",
                periods.local_today() + timedelta(days=3),
            )
        await review.grant_exception(
            None,
            tree,
            division,
            period["id"],
            scope.own(),
            "系统故障补报",
            periods.local_today() + timedelta(days=3),
        )
        report = await filing.load(scope, period["id"])
        assert report.access.editable and report.access.exception is not None
        values = filled(report, registered="1", carried_over="0", concluded="1", on_time="1")
        await filing.submit(
            scope,
            report,
            values,
            # Other modules (work logs) register xa cases in April 2025 too: a note for every
            # pre-filled figure, whatever the records say.
            corrections=notes(report),
            comments={},
            lock_version=0,
        )
        report = await filing.load(scope, period["id"])
        assert report.submission is not None and report.submission["on_time"] is False

    run(go())


def test_return_resubmit_and_two_level_approval() -> None:
    async def go() -> None:
        tree = await tenancy.tree()
        period = await open_period(202705)
        centre = await manager_scope("zc")
        report = await filing.load(centre, period["id"])
        values = filled(report, registered="5", carried_over="0", concluded="5", on_time="5")
        notes = {
            "registered": "台账",
            "concluded": "台账",
            "on_time": "台账",
            "carried_over": "台账",
        }
        await filing.submit(centre, report, values, corrections=notes, comments={}, lock_version=0)
        report = await filing.load(centre, period["id"])
        sub_id = report.submission["id"]  # type: ignore[index]
        division = await scope_of("d4-liuhong", "d4")
        regiment = await scope_of("zr-supervisor", "zr")
        with pytest.raises(review.ReviewError):  # the regiment first
            await review.decide(None, tree, division, sub_id, "approve", "")
        with pytest.raises(review.ReviewError):  # a return needs a reason
            await review.decide(None, tree, regiment, sub_id, "return", " ")
        assert (
            await review.decide(None, tree, regiment, sub_id, "return", "办结数有误") == "returned"
        )
        totals = await rollup.field_values(
            division, period["form_id"], ["registered"], [centre.own()], 202705, 202705
        )
        assert totals == []  # a returned report leaves the roll-up
        report = await filing.load(centre, period["id"])
        assert report.access.editable
        assert report.submission["return_reason"] == "办结数有误"  # type: ignore[index]
        values["registered"] = "6"
        await filing.submit(
            centre, report, values, corrections=notes, comments={}, lock_version=report.lock_version
        )
        assert await review.decide(None, tree, regiment, sub_id, "approve", "") == "endorsed"
        assert await review.decide(None, tree, division, sub_id, "approve", "") == "approved"
        totals = await rollup.field_values(
            division, period["form_id"], ["registered"], [centre.own()], 202705, 202705
        )
        assert [int(t["total"]) for t in totals] == [6]
        report = await filing.load(centre, period["id"])
        assert report.submission["revision"] == 2  # type: ignore[index]

    run(go())


def test_seed_form_and_version_in_force() -> None:
    async def go() -> None:
        form = await seed_form()
        assert form["current_version"] >= 1
        period = await open_period(202506)
        assert period["version_id"] is not None
        assert period["due_on"] == date(2025, 7, 5)
        assert period["lock_on"] == date(2025, 7, 10)

    run(go())
