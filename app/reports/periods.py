"""Report periods: when they open, fall due and lock, who files them, and whether a
centre may still change its report.

The report of month M opens on the 1st of M+1 (local time) with the form version then in
force; it is due by the end of the version's ``due_day`` of M+1 (default the 5th) and
locks after its ``lock_day`` (default the 10th).  After the lock day the centre can only
file or change it under an exception the division grants (a reason and an end date) —
or when a reviewer returned it for a fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app import db
from app.calendar.workdays import SHANGHAI
from app.reports import definition as definitions
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope, Tree, system_scope
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.reports")
FILED = frozenset({"submitted", "endorsed", "approved"})  # a report the division has


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def next_month(month: int) -> int:
    year, mon = divmod(month, 100)
    return (year + 1) * 100 + 1 if mon == 12 else month + 1


def previous_month(month: int) -> int:
    year, mon = divmod(month, 100)
    return (year - 1) * 100 + 12 if mon == 1 else month - 1


def opening_day(month: int) -> date:
    """The day the period of ``month`` opens: the 1st of the next month."""
    year, mon = divmod(next_month(month), 100)
    return date(year, mon, 1)


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def dates(month: int, due_day: int, lock_day: int) -> tuple[date, date]:
    """(due_on, lock_on) of the period of ``month``."""
    first = opening_day(month)
    return first.replace(day=due_day), first.replace(day=lock_day)


def end_of(day: date) -> datetime:
    """The UTC moment a local day ends."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI).astimezone(UTC)


def is_on_time(period: dict[str, Any], at: datetime) -> bool:
    return at < end_of(period["due_on"])


def parse_month(text: str | None) -> int | None:
    """``yyyymm`` or ``yyyy-mm`` (what ``<input type=month>`` sends) from 2000 to 2100;
    None for anything else (ASCII digits only: "²" is a digit that int() does not read)."""
    digits = (text or "").strip().replace("-", "", 1)
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    year, month = divmod(int(digits), 100)
    return year * 100 + month if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def month_input(month: int) -> str:
    """The value of an ``<input type=month>``: ``yyyy-mm``."""
    return f"{month // 100:04d}-{month % 100:02d}"


def months_before(month: int, count: int) -> int:
    for _i in range(count):
        month = previous_month(month)
    return month


def month_label(month: int) -> str:
    year, mon = divmod(month, 100)
    return _("%(year)s-%(month)02d", year=year, month=mon)


def filers(tree: Tree, owner_id: int, kinds: list[str]) -> list[TenantNode]:
    """The centres that file a form: the owner's subtree, of the given kinds, not suspended."""
    return sorted(
        (
            tree.nodes[t]
            for t in tree.subtree(owner_id)
            if tree.nodes[t].kind in kinds and tree.nodes[t].status != "suspended"
        ),
        key=lambda n: (n.kind != "division", n.kind != "regiment", n.slug),
    )


def reviewers(tree: Tree, centre_id: int, owner_id: int) -> list[int]:
    """Who approves a centre's report, in order: its regiment first where the centre hangs
    off one (below the form's owner), then the owner (the division)."""
    if centre_id == owner_id:
        return [owner_id]
    parent = tree.nodes[centre_id].parent_id
    if parent is not None and parent != owner_id and tree.nodes[parent].kind == "regiment":
        return [parent, owner_id]
    return [owner_id]


@dataclass(frozen=True)
class Access:
    """Whether the centre may change its report now, and the sentence that says why."""

    editable: bool
    reason: str
    locked: bool = False
    exception: dict[str, Any] | None = None


def access(
    period: dict[str, Any],
    submission: dict[str, Any] | None,
    exceptions: list[dict[str, Any]],
    now: datetime | None = None,
) -> Access:
    today = local_today(now)
    status = submission["status"] if submission else "none"
    if status == "approved":
        return Access(False, _("Approved: the report can no longer be changed."))
    if status in ("submitted", "endorsed"):
        return Access(
            False, _("Submitted: waiting for review. It can be changed only if returned.")
        )
    if status == "returned":
        return Access(True, _("Returned for correction: fix it and submit again."))
    if today <= period["lock_on"]:
        return Access(True, "")
    granted = next((e for e in exceptions if e["until"] >= today), None)
    if granted is not None:
        return Access(
            True,
            _(
                "Exception granted until %(until)s: %(reason)s",
                until=granted["until"].isoformat(),
                reason=granted["reason"],
            ),
            exception=granted,
        )
    return Access(
        False,
        _(
            "This period locked after %(day)s. Ask the division for an exception"
            " to file or change it.",
            day=period["lock_on"].isoformat(),
        ),
        locked=True,
    )


async def open_period(scope: TenantScope, form: dict[str, Any], month: int) -> bool:
    """Open ``form``'s period for ``month`` with the version in force on its opening day
    (inside the caller's write); False when already open or no version is in force."""
    version = await form_queries.version_in_force(scope, form["id"], opening_day(month))
    if version is None:
        return False
    definition = definitions.load(version["definition"])
    due_on, lock_on = dates(month, definition.due_day, definition.lock_day)
    return await queries.insert_period(
        scope,
        form["tenant_id"],
        form=form["id"],
        version=version["id"],
        month=month,
        due_on=due_on,
        lock_on=lock_on,
        opened_at=datetime.now(UTC),
    )


async def open_due(now: datetime | None = None) -> int:
    """Open every active form's period for last month (idempotent; the daily sweep)."""
    month = previous_month(month_of(local_today(now)))
    scope = system_scope(await tenancy.tree(), reason="reports.periods: open")
    opened = 0
    for form in await form_queries.active_forms(scope):
        async with db.write(scope):
            opened += await open_period(scope, form, month)
    if opened:
        log.info("opened %s report periods for %s", opened, month)
    return opened
