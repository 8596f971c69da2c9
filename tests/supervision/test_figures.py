"""centre_figures against hand-made data: light counts from the stored columns (deltas on
the shared fixture centres), rates of a stored month (app.metrics), rectifications,
report timeliness and the latest inspection — and the metrics definitions themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app import db, metrics
from app.cases import ledger, lights
from app.cases.queries import stats as stat_queries
from app.supervision.figures import centre_figures
from tests.cases.helpers import DIBAO, register, run, scope_of, start_for_light
from tests.reports.helpers import open_period
from tests.supervision import helpers as h

CLERK = "xa-clerk"
MONTH = 209001  # a month no other test uses


async def _figures(slug: str, month: int, now: datetime | None = None):  # type: ignore[no-untyped-def]
    scope = await scope_of("d4-liuhong", "d4")
    tenant_id = await h.tenant_id(slug)
    return (await centre_figures(scope, [tenant_id], month, now=now))[tenant_id]


def test_light_counts_follow_the_stored_columns() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    month = metrics.month_key(now)
    run(lights.move_lights(now))  # other modules' cases of xa (same database) moved first
    before = run(_figures("xa", month))
    run(register(CLERK, "xa", DIBAO, now=run(start_for_light(now, "red")), name="监察红"))
    run(register(CLERK, "xa", DIBAO, now=now - timedelta(days=120), name="监察超法定"))
    fresh = run(register(CLERK, "xa", DIBAO, now=now - timedelta(minutes=5), name="监察绿"))
    # Not yet swept: the stored columns still say green, and the figures read them only.
    assert run(_figures("xa", month)).overdue == before.overdue
    run(lights.move_lights(now))
    after = run(_figures("xa", month))
    assert after.overdue == before.overdue + 2
    assert after.legal_exceeded == before.legal_exceeded + 1
    assert after.due_soon == before.due_soon
    assert fresh["light"] == "green"


def test_rates_come_from_the_stored_month() -> None:
    counts = dict.fromkeys(metrics.COUNTS, 0)
    counts.update(
        concluded=8, on_time=6, late=2, unrated=2, rated=5, level_5=2, level_4=1, level_2=2
    )

    async def store() -> None:
        scope = await h.system()
        async with db.write(scope):
            await stat_queries.store_month(
                scope, await h.tenant_id("xb"), MONTH, counts, datetime.now(UTC)
            )

    run(store())
    f = run(_figures("xb", MONTH, datetime(2090, 1, 20, tzinfo=UTC)))
    assert (f.on_time_rate, f.good_rate, f.unrated_rate) == (
        Decimal("75.0"),
        Decimal("60.0"),
        Decimal("25.0"),
    )
    assert f.figures.on_time_rate == metrics.Figures(counts).on_time_rate
    # A month without stored figures has no rates (nothing to divide), not 0 %.
    empty = run(_figures("xb", MONTH + 1, datetime(2090, 2, 20, tzinfo=UTC)))
    assert (empty.on_time_rate, empty.good_rate, empty.unrated_rate) == (None, None, None)


def test_rectifications_open_and_overdue() -> None:
    now = datetime.now(UTC)
    before = run(_figures("xb", MONTH))

    async def open_two() -> None:
        scope = await h.system()
        tenant_id = await h.tenant_id("xb")
        async with db.write(scope):
            for title, due in (
                ("逾期整改", now - timedelta(days=1)),
                ("未到期整改", now + timedelta(days=5)),
            ):
                await ledger.open_item(
                    scope, tenant_id, "supervision", None, None, title, "", None, due, now=now
                )

    run(open_two())
    after = run(_figures("xb", MONTH))
    assert after.open_rectifications == before.open_rectifications + 2
    assert after.overdue_rectifications == before.overdue_rectifications + 1


def test_latest_inspection_up_to_the_month() -> None:
    tag = datetime.now(UTC).strftime("%H%M%S%f")
    # Other modules submit xa inspections today: December 2090 sees only those.
    earlier = run(_figures("xa", 209012)).inspection_percent
    run(h.inspection("xa", "submitted", "80.00", datetime(2091, 1, 10, 3, tzinfo=UTC), f"a{tag}"))
    run(h.inspection("xa", "acknowledged", "91.50", datetime(2091, 2, 5, 3, tzinfo=UTC), f"b{tag}"))
    run(h.inspection("xa", "in_progress", None, None, f"c{tag}"))
    assert run(_figures("xa", 209012)).inspection_percent == earlier
    jan = run(_figures("xa", 209101))
    assert (jan.inspection_percent, jan.inspection_at) == (
        Decimal("80.00"),
        datetime(2091, 1, 10, 3, tzinfo=UTC),
    )
    assert run(_figures("xa", 209102)).inspection_percent == Decimal("91.50")
    assert run(_figures("xa", 209106)).inspection_percent == Decimal("91.50")


def test_report_timeliness() -> None:
    period = run(open_period(MONTH))
    run(h.submission("xa", period, "submitted", True))
    run(h.submission("xb", period, "draft", None))
    before_due = datetime(2090, 2, 1, tzinfo=UTC)
    after_due = datetime(2090, 3, 1, tzinfo=UTC)
    xa = run(_figures("xa", MONTH, before_due))
    assert (xa.report_on_time, xa.report_state) == (True, "on_time")
    xb = run(_figures("xb", MONTH, before_due))
    assert (xb.report_on_time, xb.report_state) == (None, "draft")
    xb = run(_figures("xb", MONTH, after_due))
    assert (xb.report_on_time, xb.report_state) == (False, "draft")
    zc = run(_figures("zc", MONTH, after_due))  # files the form, nothing submitted
    assert (zc.report_on_time, zc.report_state) == (False, "missing")
    d4 = run(_figures("d4", MONTH, after_due))  # the division does not file it
    assert (d4.report_on_time, d4.report_state) == (None, "none")


def test_report_timeliness_definition() -> None:
    today = date(2090, 2, 10)
    due = [date(2090, 2, 5)]
    assert metrics.report_timeliness([], [date(2090, 2, 15)], today) == (None, "none")
    assert metrics.report_timeliness([], due, today) == (False, "missing")
    assert metrics.report_timeliness([("submitted", False)], due, today) == (False, "late")
    assert metrics.report_timeliness([("returned", True)], due, today) == (True, "returned")
    assert metrics.report_timeliness([("approved", True)], due, today) == (True, "approved")
    assert metrics.report_rate([True, False, None, True]) == Decimal("66.7")
    assert metrics.report_rate([None]) is None


def test_league_score_definition() -> None:
    full = metrics.league_score(
        on_time_rate=Decimal(90),
        good_rate=Decimal(80),
        report_on_time=True,
        inspection_percent=Decimal(70),
        overdue=1,
        overdue_rectifications=2,
    )
    # 90×.3 + 80×.3 + 100×.2 + 70×.2 = 85; minus 2×1 and 1×2.
    assert full == Decimal("81.0")
    partial = metrics.league_score(
        on_time_rate=Decimal(90),
        good_rate=None,
        report_on_time=None,
        inspection_percent=None,
        overdue=0,
        overdue_rectifications=0,
    )
    assert partial == Decimal("90.0")  # missing parts are left out and the rest re-weighted
    none = metrics.league_score(
        on_time_rate=None,
        good_rate=None,
        report_on_time=None,
        inspection_percent=None,
        overdue=3,
        overdue_rectifications=0,
    )
    assert none == Decimal("-6.0")


def test_a_scope_reads_only_its_centres() -> None:
    async def go() -> dict:  # type: ignore[type-arg]
        scope = await scope_of("xa-manager", "xa")
        return await centre_figures(
            scope, [await h.tenant_id("xa"), await h.tenant_id("xb")], MONTH
        )

    assert list(run(go())) == [run(h.tenant_id("xa"))]
