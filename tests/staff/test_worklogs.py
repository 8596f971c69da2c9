"""Work logs: pre-fill counts from the window's cases, writing rules (posts, working days),
review locking the log, stale copies, and the monthly/quarterly/year-end summaries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.staff import summary as summaries
from app.staff import worklog
from app.staff.queries import worklogs as queries
from app.tenancy import queries as tenancy
from app.web.errors import Forbidden, NotFound
from tests.staff.helpers import at, entry, new_window, put_on_window, run, scope_of, working_days


async def _xa() -> int:
    return (await tenancy.tree()).by_slug["xa"].id


def test_prefill_counts_the_windows_cases_of_that_local_day() -> None:
    async def go() -> None:
        window = await new_window("xa", "xa-clerk", "xa-manager")
        other = await new_window("xa", "xa-clerk")
        day = (await working_days("xa", date(2026, 3, 9), 1))[0]
        nxt = day + timedelta(days=1)
        late_evening = at(day, 23).replace(minute=30)  # 23:30 local: still that day
        await put_on_window(
            "xa-clerk", "xa", window, at(day, 10), accepted_at=at(day, 10), concluded_at=at(day, 11)
        )
        await put_on_window(
            "xa-clerk", "xa", window, at(day, 10), accepted_at=at(day, 12), concluded_at=at(nxt, 10)
        )
        await put_on_window(
            "xa-clerk",
            "xa",
            window,
            at(day - timedelta(days=1), 16),
            accepted_at=at(day, 9),
            concluded_at=None,
        )
        await put_on_window(
            "xa-clerk", "xa", window, late_evening, accepted_at=None, concluded_at=None
        )
        await put_on_window(
            "xa-clerk",
            "xa",
            window,
            at(nxt, 0).replace(minute=10),
            accepted_at=None,
            concluded_at=None,
        )
        await put_on_window("xa-clerk", "xa", other, at(day, 10),
                            accepted_at=at(day, 10), concluded_at=at(day, 10))  # fmt: skip
        scope = await scope_of("xa-clerk", "xa")
        counts = await worklog.platform_counts(scope, await _xa(), window, day)
        assert counts == {"registered": 3, "accepted": 3, "concluded": 1}
        lines = await worklog.staff_lines(scope, await _xa(), window)
        assert [(line["post"], line["name"]) for line in lines] == [
            ("A", "甲窗口"),
            ("B", "甲主任"),
        ]
        log_id = await worklog.create(
            None,
            scope,
            await _xa(),
            window,
            day,
            entry(2, attendance=["present", "late"], offline="2"),
        )
        log = await queries.log(scope, log_id)
        assert log is not None
        assert (log["registered"], log["accepted"], log["concluded"], log["offline"]) == (
            3,
            3,
            1,
            2,
        )
        assert [s["attendance"] for s in log["staff"]] == ["present", "late"]
        assert log["written_by_id"] == scope.user_id

    run(go())


def test_writing_rules_posts_working_days_duplicates() -> None:
    async def go() -> None:
        xa = await _xa()
        mine = await new_window("xa", "xa-clerk")
        not_mine = await new_window("xa", "xa-manager")
        clerk = await scope_of("xa-clerk", "xa")
        day = (await working_days("xa", date(2026, 3, 16), 1))[0]
        with pytest.raises(Forbidden):  # a clerk writes only a window where they hold a post
            await worklog.create(None, clerk, xa, not_mine, day, entry(1))
        manager = await scope_of("xa-manager", "xa")
        assert await worklog.create(None, manager, xa, mine, day, entry(1))  # a manager: any
        with pytest.raises(queries.Conflict):  # one log per window and day
            await worklog.create(None, clerk, xa, mine, day, entry(1))
        saturday = day + timedelta(days=(5 - day.weekday()) % 7)
        if not (await working_days("xa", saturday, 1))[0] == saturday:
            with pytest.raises(worklog.WorkLogError) as refused:
                await worklog.create(None, clerk, xa, mine, saturday, entry(1))
            assert refused.value.field == "day"
            assert saturday.isoformat() in refused.value.message
        with pytest.raises(worklog.WorkLogError):  # not a day still to come
            await worklog.create(
                None, clerk, xa, mine, worklog.today() + timedelta(days=3), entry(1)
            )
        with pytest.raises(worklog.Invalid) as invalid:
            await worklog.create(
                None,
                clerk,
                xa,
                mine,
                day + timedelta(days=1),
                entry(1, attendance=["asleep"], offline="-1"),
            )
        assert set(invalid.value.errors) == {"attendance_0", "offline"}
        with pytest.raises(NotFound):  # another centre's clerk: like a missing window
            await worklog.create(None, await scope_of("xb-clerk", "xb"), xa, mine, day, entry(1))

    run(go())


def test_review_locks_the_log_and_a_stale_copy_is_refused() -> None:
    async def go() -> None:
        xa = await _xa()
        window = await new_window("xa", "xa-clerk")
        clerk = await scope_of("xa-clerk", "xa")
        manager = await scope_of("xa-manager", "xa")
        day = (await working_days("xa", date(2026, 3, 23), 1))[0]
        log_id = await worklog.create(None, clerk, xa, window, day, entry(1))
        log = await queries.log(clerk, log_id)
        assert log is not None
        await worklog.update(
            None, clerk, log, entry(1, discipline_notes="迟到"), log["lock_version"]
        )
        with pytest.raises(queries.Conflict):  # the copy read before that save
            await worklog.update(None, clerk, log, entry(1), log["lock_version"])
        with pytest.raises(Forbidden):  # a clerk does not review
            await worklog.review(None, clerk, log, "", log["lock_version"] + 1)
        fresh = await queries.log(manager, log_id)
        assert fresh is not None and fresh["discipline_notes"] == "迟到"
        await worklog.review(None, manager, fresh, "已阅", fresh["lock_version"])
        reviewed = await queries.log(clerk, log_id)
        assert reviewed is not None
        assert reviewed["reviewed_at"] is not None and reviewed["reviewed_by_id"] == manager.user_id
        assert reviewed["review_comment"] == "已阅"
        with pytest.raises(worklog.WorkLogError):  # read-only now
            await worklog.update(None, clerk, reviewed, entry(1), reviewed["lock_version"])
        with pytest.raises(worklog.WorkLogError):  # reviewed once
            await worklog.review(None, manager, reviewed, "", reviewed["lock_version"])
        # Even a copy loaded before the review cannot be saved over it.
        with pytest.raises(worklog.WorkLogError):
            await worklog.update(None, manager, fresh, entry(1), fresh["lock_version"])

    run(go())


def test_summaries_per_month_quarter_and_year() -> None:
    # 2023: a year no other module registers xa cases in (the report tests file 2025).
    async def go() -> None:
        xa = await _xa()
        window = await new_window("xa", "xa-clerk", "xa-manager")
        clerk = await scope_of("xa-clerk", "xa")
        april = await working_days("xa", date(2023, 4, 7), 2)
        may = await working_days("xa", date(2023, 5, 12), 1)
        await put_on_window("xa-clerk", "xa", window, at(april[0]))
        await put_on_window("xa-clerk", "xa", window, at(april[0]))
        await put_on_window("xa-clerk", "xa", window, at(may[0]))
        plan = [
            (april[0], ["present", "late"], "1", "", "|说话不文明"),
            (april[1], ["leave", "present"], "0", "串岗", ""),
            (may[0], ["trip", "absent"], "3", "", ""),
        ]
        for day, attendance, offline, discipline, notes in plan:
            await worklog.create(
                None, clerk, xa, window, day,
                entry(2, attendance=attendance, offline=offline, discipline_notes=discipline,
                      notes=notes),
            )  # fmt: skip

        async def tally(text: str) -> summaries.Summary:
            period = summaries.parse_period(text)
            assert period is not None
            logs = await queries.logs_between(clerk, xa, period.first, period.last)
            mine = [row for row in logs if row["window_id"] == window]
            windows = [w for w in await tenancy.windows(clerk, xa) if w["id"] == window]
            return summaries.summarise(period, [], windows, mine)

        month = await tally("2023-04")
        ((_w, t),) = month.windows
        assert (t.days_logged, t.registered, t.offline) == (2, 2, 1)
        assert t.attendance == {"present": 2, "late": 1, "leave": 1, "absent": 0, "trip": 0}
        assert t.discipline_notes == 2  # one log's discipline note + one personal note
        assert t.platform_usage == Decimal("66.7")  # 2 ÷ 3
        assert t.attendance_rate == Decimal("50.0")  # 2 present ÷ 4 person-days
        people = {p.name: p for p in month.people}
        assert people["甲主任"].discipline_notes == 1 and people["甲主任"].posts == {"B"}
        assert (
            people["甲主任"].attendance["late"] == 1 and people["甲窗口"].attendance["leave"] == 1
        )
        quarter = await tally("2023-Q2")
        ((_w, q),) = quarter.windows
        assert (q.days_logged, q.registered, q.offline) == (3, 3, 4)
        assert q.platform_usage == Decimal("42.9")  # 3 ÷ 7
        assert q.attendance_rate == Decimal("50.0")  # (2 present + 1 trip) ÷ 6
        assert (await tally("2023")).windows[0][1].days_logged == 3
        assert (await tally("2023-Q1")).windows[0][1].days_logged == 0
        assert (await tally("2023-05")).windows[0][1].attendance["absent"] == 1

    run(go())


def test_parse_period() -> None:
    p = summaries.parse_period("2026-Q3")
    assert p is not None and (p.kind, p.first, p.last) == (
        "quarter",
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    p = summaries.parse_period("2024-02")
    assert p is not None and p.last == date(2024, 2, 29)
    p = summaries.parse_period("2026")
    assert p is not None and (p.first, p.last) == (date(2026, 1, 1), date(2026, 12, 31))
    for bad in ("2026-13", "2026-Q5", "26-01", "2026-1", "", "2026-Q1x"):
        assert summaries.parse_period(bad) is None


def test_make_log_helper_for_the_security_harness() -> None:
    async def go() -> None:
        from tests.staff.helpers import make_log

        log_id = await make_log("xb", "xb-clerk")
        assert await queries.log(await scope_of("xa-manager", "xa"), log_id) is None
        found = await queries.log(await scope_of("xb-manager", "xb"), log_id)
        assert found is not None and found["tenant_slug"] == "xb"

    run(go())


def test_a_person_on_two_windows_counts_each_day_once() -> None:
    period = summaries.parse_period("2025-04")
    assert period is not None
    day1, day2 = date(2025, 4, 7), date(2025, 4, 8)

    def log(window: int, day: date, post: str) -> dict[str, object]:
        staff = [{"user_id": 7, "name": "王琳", "post": post, "attendance": "present"}]
        return {"window_id": window, "day": day, "staff": staff}

    logs = [log(1, day1, "A"), log(2, day1, "B"), log(1, day2, "A")]
    windows = [{"id": 1, "code": "1", "name": "一号"}, {"id": 2, "code": "2", "name": "二号"}]
    (person,) = summaries.summarise(period, [day1, day2], windows, logs).people
    assert person.days_logged == 2  # three log lines, two days
    assert person.posts == {"A", "B"}
