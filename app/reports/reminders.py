"""Reminders to file the monthly report: three working days before the due day and on it.

The hourly sweep (:mod:`app.reports.tasks`) calls :func:`send_due`.  For every open period
of an active form, every filing centre that has not filed yet (no report, a draft or a
returned one) is reminded — in the inbox of its managers and on its group-robot channel:

* ``before``: from the third working day before the due day (on the centre's own calendar:
  national days, make-up working days, the division's regional days) until the day before
  it — a sweep that missed that day catches up, but never after the due day has come;
* ``due``: on the due day itself.

Nothing is sent before 09:00 local time; the first run at or after it sends.  Each reminder
is claimed first (a unique row per centre, period and kind, committed on its own) and sent
only when the claim is new, so re-running the sweep — or two schedulers — never sends
twice; a crash between the claim and the notice loses that one reminder rather than
doubling it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app import db
from app.calendar.services import load_days
from app.calendar.workdays import SHANGHAI
from app.reports import definition as definitions
from app.reports import notices, periods
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.reports")

WORKING_DAYS_BEFORE = 3
SEND_FROM_HOUR = 9  # local time
LOOKBACK = 31  # calendar days searched for the working days before a due day
WINDOW = 21  # no "before" day lies further ahead of its due day (the longest holidays)
NOT_FILED = frozenset({"draft", "returned"})


def before_day(is_working_day: Callable[[date], bool], due_on: date) -> date:
    """The day ``WORKING_DAYS_BEFORE`` working days before ``due_on`` (not counting it)."""
    day, found = due_on, 0
    for _step in range(LOOKBACK):
        day -= timedelta(days=1)
        if is_working_day(day):
            found += 1
            if found == WORKING_DAYS_BEFORE:
                return day
    return day


@dataclass(frozen=True)
class Reminder:
    tenant_id: int
    period: dict[str, Any]
    kind: str  # before | due


async def _waiting(
    scope: TenantScope, tree: Tree, period: dict[str, Any], kinds: Iterable[str], kind: str
) -> list[int]:
    """The centres filing the period's form that were not yet sent ``kind`` and have not
    filed (no report, a draft or a returned one)."""
    claimed = {
        int(r["tenant_id"])
        for r in await period_queries.reminders(scope, period["id"])
        if r["kind"] == kind
    }
    out = []
    for node in periods.filers(tree, period["tenant_id"], list(kinds)):
        if node.id in claimed:
            continue
        row = await submission_queries.submission_for(scope, node.id, period["id"])
        if row is None or row["status"] in NOT_FILED:
            out.append(node.id)
    return out


async def due(now: datetime, scope: TenantScope, tree: Tree) -> list[Reminder]:
    """The reminders whose moment has come and that were not claimed yet."""
    local = now.astimezone(SHANGHAI)
    if local.hour < SEND_FROM_HOUR:
        return []
    today = local.date()
    active = {f["id"] for f in await form_queries.active_forms(scope)}
    out: list[Reminder] = []
    for period in await period_queries.open_periods(scope, today):
        due_on: date = period["due_on"]
        if period["form_id"] not in active or today > due_on:
            continue
        if today < due_on - timedelta(days=WINDOW):
            continue
        version = await form_queries.version(scope, period["version_id"])
        if version is None:
            continue
        kinds = definitions.load(version["definition"]).filers
        kind = "due" if today == due_on else "before"
        for tenant_id in await _waiting(scope, tree, period, kinds, kind):
            if kind == "before":
                days = await load_days(scope, tenant_id, tree)
                if before_day(days.is_working_day, due_on) > today:
                    continue
            out.append(Reminder(tenant_id, period, kind))
    return out


def _message(reminder: Reminder) -> tuple[str, str]:
    period = reminder.period
    values = {
        "form": period["form_title"],
        "month": periods.month_label(period["month"]),
        "day": period["due_on"].isoformat(),
    }
    if reminder.kind == "due":
        title = _("Monthly report %(month)s is due today", **values)
        body = _(
            "%(form)s for %(month)s is due today (%(day)s). Please submit it before the end"
            " of the day.",
            **values,
        )
    else:
        title = _("Monthly report %(month)s is due on %(day)s", **values)
        body = _(
            "%(form)s for %(month)s is due on %(day)s. Please fill it in and submit it.", **values
        )
    return title, body


async def send_due(now: datetime) -> int:
    """Claim and send every reminder due at ``now``; returns how many went out."""
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="reports.reminders: remind centres to file")
    sent = 0
    for reminder in await due(now, scope, tree):
        try:
            async with db.write(scope):
                claimed = await period_queries.claim_reminder(
                    scope, reminder.tenant_id, reminder.period["id"], reminder.kind, now
                )
        except Exception:  # the unique key: a concurrent run claimed it first
            log.warning(
                "reminder %s of period %s for tenant %s not claimed",
                reminder.kind,
                reminder.period["id"],
                reminder.tenant_id,
                exc_info=True,
            )
            continue
        if not claimed:
            continue
        title, body = _message(reminder)
        slug = tree.nodes[reminder.tenant_id].slug
        await notices.tell_managers(
            tree,
            reminder.tenant_id,
            title,
            body=body,
            link=f"/t/{slug}/reports/{reminder.period['id']}",
            channel=True,
        )
        sent += 1
    if sent:
        log.info("sent %s report reminders", sent)
    return sent
