"""The retention rule: 14 daily, 8 weekly (Sundays), 12 monthly (the 1st), never the newest."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from app.backup.manifest import MANIFEST
from app.backup.retention import Policy, keep, plan, prune, taken_at


def nightly(
    first: date, last: date, skip: frozenset[date] | set[date] = frozenset()
) -> list[datetime]:
    days = (last - first).days + 1
    out = [first + timedelta(days=i) for i in range(days)]
    return [datetime(d.year, d.month, d.day, 2, 30) for d in out if d not in skip]


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 2, 30)


def test_a_year_of_nightly_backups() -> None:
    last = date(2026, 6, 30)  # a Tuesday
    kept = keep(nightly(date(2025, 5, 1), last))
    daily = {at(2026, 6, d) for d in range(17, 31)}
    # The newest of each of the last 8 ISO weeks: this week's Tuesday, then seven Sundays.
    sundays = {at(2026, 6, 28), at(2026, 6, 21), at(2026, 6, 14), at(2026, 6, 7)}
    sundays |= {at(2026, 5, 31), at(2026, 5, 24), at(2026, 5, 17)}
    firsts = {at(2026, m, 1) for m in range(1, 7)} | {at(2025, m, 1) for m in range(7, 13)}
    assert kept == daily | sundays | firsts
    assert all(t.isoweekday() == 7 for t in sundays)
    assert len(kept) == 14 + 7 + 12 - 2  # 06-21 and 06-28 are daily and weekly; 06-01 ≠ Sunday


def test_missed_nights_move_the_choice_to_the_nearest_backup() -> None:
    skip = {date(2026, 6, 21), date(2026, 6, 1), date(2026, 6, 2)}
    kept = keep(nightly(date(2026, 1, 1), date(2026, 6, 30), skip), Policy(3, 4, 2))
    assert at(2026, 6, 20) in kept  # the Saturday stands in for the missed Sunday
    assert at(2026, 6, 3) in kept  # the first backup of June
    assert at(2026, 5, 1) in kept and at(2026, 4, 1) not in kept
    # Missed nights do not shorten the daily window: it counts backups, not days.
    times = nightly(date(2026, 6, 1), date(2026, 6, 30), {date(2026, 6, 29)})
    assert {at(2026, 6, 30), at(2026, 6, 28), at(2026, 6, 27)} <= keep(times, Policy(3, 0, 0))


def test_several_backups_a_day_keep_the_newest() -> None:
    times = [datetime(2026, 6, 30, h, 0) for h in (2, 9, 17)]
    assert keep(times, Policy(1, 0, 0)) == {datetime(2026, 6, 30, 17, 0)}


def test_the_newest_backup_is_always_kept() -> None:
    times = nightly(date(2026, 6, 1), date(2026, 6, 10))
    assert keep(times, Policy(0, 0, 0)) == {at(2026, 6, 10)}
    assert keep([], Policy()) == set()


def test_names() -> None:
    assert taken_at("2026-06-30-0230") == at(2026, 6, 30)
    for name in ("2026-06-31-0230", "2026-06-30", "latest", "2026-06-30-0230.tmp", "x"):
        assert taken_at(name) is None


def make(root: Path, name: str, complete: bool = True) -> None:
    (root / name).mkdir()
    if complete:
        (root / name / MANIFEST).write_text("{}")


def test_prune_removes_only_what_the_rule_drops(tmp_path: Path) -> None:
    for t in nightly(date(2026, 5, 1), date(2026, 6, 30)):
        make(tmp_path, t.strftime("%Y-%m-%d-%H%M"))
    make(tmp_path, "2026-05-20-1200", complete=False)  # a failed run, long superseded
    make(tmp_path, "2026-06-30-1200", complete=False)  # still being written
    make(tmp_path, "keep-me")
    (tmp_path / "notes.txt").write_text("not a backup")
    now = datetime(2026, 6, 30, 13, 0)
    policy = Policy(14, 8, 12)
    planned = plan(tmp_path, now, policy)
    assert planned.incomplete == ["2026-05-20-1200"]
    assert planned.in_progress == ["2026-06-30-1200"]
    assert prune(tmp_path, now, policy, dry_run=True).remove == planned.remove
    assert len(list(tmp_path.iterdir())) == 61 + 4  # a dry run deletes nothing

    done = prune(tmp_path, now, policy)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == set(done.keep) | {"2026-06-30-1200", "keep-me", "notes.txt"}
    assert len(done.keep) == 14 + 8 + 2 - 3  # weekly and monthly overlap the daily
    assert not set(done.remove) & left
