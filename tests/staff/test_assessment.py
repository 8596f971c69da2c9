"""The assessment variables of a window from its cases and logs, and its exact score."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app import db
from app.cases.tables import Rating
from app.staff import assessment, worklog
from app.staff import scheme as schemes
from app.staff.summary import percent
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.staff.helpers import (
    at,
    entry,
    make_log,
    new_window,
    put_on_window,
    run,
    scope_of,
    working_days,
)


def test_window_variables_and_score_for_a_month() -> None:
    async def go() -> None:
        tree = await tenancy.tree()
        xa = tree.by_slug["xa"].id
        window = await new_window("xa", "xa-clerk")
        d1, d2 = await working_days("xa", date(2023, 6, 9), 2)
        # Four cases registered on the two log days, concluded in June: 3 on time, 1 late;
        # two rated (one good 5, one bad 2) → 未评 2 of 4.
        ids = []
        for day, on_time, rated in ((d1, True, True), (d1, True, True), (d2, True, False),
                                    (d2, False, False)):  # fmt: skip
            ids.append(
                await put_on_window(
                    "xa-clerk",
                    "xa",
                    window,
                    at(day, 10),
                    accepted_at=at(day, 10),
                    concluded_at=at(day, 15),
                    on_time=on_time,
                    rated=rated,
                )
            )
        system = system_scope(tree, reason="tests: ratings")
        async with db.write(system):
            for case_id, level in ((ids[0], 5), (ids[1], 2)):
                await Rating.insert(
                    Rating(tenant=xa, case=case_id, level=level, rated_at=at(d2, 16))
                )
        clerk = await scope_of("xa-clerk", "xa")
        await worklog.create(None, clerk, xa, window, d1, entry(1, offline="1"))
        await worklog.create(
            None, clerk, xa, window, d2,
            entry(1, attendance=["late"], offline="1", discipline_notes="上班时间玩手机"),
        )  # fmt: skip
        manager = await scope_of("xa-manager", "xa")
        version = {"number": 1, "from_month": 202301, "components": schemes.RECOMMENDED}
        scored = await assessment.window_scores(manager, xa, 202306, version)
        (mine,) = [s for s in scored if s.ident == window]
        june = await working_days("xa", date(2023, 6, 1), 30)
        working = len([d for d in june if d.month == 6])
        assert mine.variables == {
            "on_time_rate": Decimal("75.0"),
            "good_rate": Decimal("50.0"),
            "unrated_rate": Decimal("50.0"),
            "platform_usage": Decimal("66.7"),  # 4 on the platform ÷ (4 + 2 offline)
            "attendance_rate": Decimal("50.0"),
            "late": Decimal(1),
            "absent": Decimal(0),
            "discipline_notes": Decimal(1),
            "log_rate": percent(2, working),
        }
        assert mine.score is not None
        points = {p.key: p.points for p in mine.score.parts}
        assert points == {
            "on_time": Decimal("22.50"),
            "satisfaction": Decimal("12.50"),
            "platform_usage": Decimal("13.34"),
            "attendance": Decimal("7.50"),
            "discipline": Decimal("8.00"),
        }
        assert mine.score.total == Decimal("63.84")
        assert mine.score.contribution == Decimal("1.92")
        # A window without cases or logs that month: every input "—", no total.
        empty = await new_window("xa", "xa-clerk")
        (blank,) = [
            s for s in await assessment.window_scores(manager, xa, 202306, version)
            if s.ident == empty
        ]  # fmt: skip
        assert blank.score is not None and blank.score.total is None
        assert blank.variables["on_time_rate"] is None and blank.variables["late"] is None

    run(go())


def test_centre_scores_read_the_supervision_figures() -> None:
    async def go() -> None:
        tree = await tenancy.tree()
        supervisor = await scope_of("d4-liuhong", "d4")
        version = {"number": 1, "from_month": 202301, "components": schemes.RECOMMENDED}
        centres = [tree.by_slug["xa"], tree.by_slug["xb"]]
        scored = await assessment.centre_scores(supervisor, tree, centres, 202306, version)
        assert [s.slug for s in scored] == ["xa", "xb"]
        for s in scored:
            assert set(s.variables) == schemes.CENTRE_VARIABLES
            assert s.score is not None
            assert {p.key for p in s.score.parts} == {
                "on_time", "satisfaction", "platform_usage", "inspection", "report_timeliness"
            }  # fmt: skip
        # A centre manager's scope reads only its own centre.
        manager = await scope_of("xa-manager", "xa")
        only = await assessment.centre_scores(manager, tree, centres, 202306, version)
        assert [s.slug for s in only] == ["xa"]

    run(go())


def test_centre_logs_read_together_equal_one_by_one() -> None:
    """The division's page reads every centre's month in four queries: same summaries."""

    async def go() -> None:
        tree = await tenancy.tree()
        supervisor = await scope_of("d4-liuhong", "d4")
        ids = sorted(tree.subtree(tree.by_slug["d4"].id))
        await make_log("xa", "xa-clerk")
        month = assessment.today().year * 100 + assessment.today().month
        together = await assessment.month_logs_of(supervisor, tree, ids, month)
        for tenant_id in ids:
            alone = await assessment.month_logs(supervisor, tenant_id, month)
            mine = together[tenant_id]
            assert mine.working_days == alone.working_days, tenant_id
            assert [w["id"] for w, _t in mine.windows] == [w["id"] for w, _t in alone.windows]
            assert [t for _w, t in mine.windows] == [t for _w, t in alone.windows], tenant_id
            assert mine.centre == alone.centre
        assert any(s.centre.days_logged for s in together.values())

    run(go())
