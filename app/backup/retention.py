"""Which backups to keep: the last 14 days, 8 weeks and 12 months (grandfather-father-son).

Backups live in ``BACKUP_DIR/YYYY-MM-DD-HHMM`` (local time, as the nightly timer names them).
:func:`keep` is pure.  Per day the newest backup counts; per ISO week the newest (Sunday's,
when the timer ran that night); per month the oldest (the 1st's).  A night without a backup
does not shorten what is kept: the rule counts backups, not calendar days.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.backup.manifest import MANIFEST

NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})$")
INCOMPLETE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    daily: int = 14
    weekly: int = 8
    monthly: int = 12


def taken_at(name: str) -> datetime | None:
    """The time in a backup directory's name, or None for any other name."""
    found = NAME.match(name)
    if not found:
        return None
    year, month, day, hour, minute = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError:
        return None


def _pick(
    times: list[datetime], bucket: Callable[[datetime], Hashable], n: int, newest: bool
) -> set[datetime]:
    """One backup per bucket (its newest or oldest), for the ``n`` most recent buckets."""
    chosen: dict[Hashable, datetime] = {}
    for t in sorted(times, reverse=newest):  # the first seen per bucket wins
        chosen.setdefault(bucket(t), t)
    recent = sorted(chosen.values(), reverse=True)[: max(n, 0)]
    return set(recent)


def keep(times: Iterable[datetime], policy: Policy = Policy()) -> set[datetime]:
    """The backups to keep out of ``times`` (complete backups only)."""
    times = list(times)
    kept = _pick(times, lambda t: t.date(), policy.daily, newest=True)
    kept |= _pick(times, lambda t: t.isocalendar()[:2], policy.weekly, newest=True)
    kept |= _pick(times, lambda t: (t.year, t.month), policy.monthly, newest=False)
    if times:
        kept.add(max(times))  # never delete the newest backup
    return kept


@dataclass
class PrunePlan:
    keep: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # removed: no manifest, superseded
    in_progress: list[str] = field(default_factory=list)  # kept: no manifest yet, recent


def plan(root: Path, now: datetime, policy: Policy = Policy()) -> PrunePlan:
    """Decide for every ``YYYY-MM-DD-HHMM`` directory in ``root`` (other entries are ignored).

    A directory without a manifest is incomplete: removed once a newer complete backup
    exists and it is more than a day old (until then it may still be being written).
    """
    complete: dict[datetime, str] = {}
    partial: dict[str, datetime] = {}
    for entry in sorted(root.iterdir()):
        t = taken_at(entry.name)
        if t is None or entry.is_symlink() or not entry.is_dir():
            continue
        if (entry / MANIFEST).is_file():
            complete[t] = entry.name
        else:
            partial[entry.name] = t
    result = PrunePlan()
    kept = keep(complete, policy)
    for t, name in sorted(complete.items()):
        (result.keep if t in kept else result.remove).append(name)
    newest = max(complete, default=None)
    for name, t in sorted(partial.items()):
        superseded = newest is not None and t < newest and now - t > INCOMPLETE_GRACE
        (result.incomplete if superseded else result.in_progress).append(name)
    return result


def prune(root: Path, now: datetime, policy: Policy = Policy(), dry_run: bool = False) -> PrunePlan:
    """Apply :func:`plan`: delete the backups it does not keep."""
    decided = plan(root, now, policy)
    if not dry_run:
        for name in decided.remove + decided.incomplete:
            shutil.rmtree(root / name)
    return decided
