"""The assessment (绩效考核) of one month: the variables of each window and each centre, and
their scores under the division's scheme (app.staff.scheme) — computed on demand.

Window variables: the app.metrics rates (按时办结率, 好评率, 未评率) of the window's own
cases (``service_case.window_id``; counts through :mod:`app.staff.queries.assessment`, rates
through :class:`app.metrics.Figures`), and from its work logs of the month: platform usage,
attendance rate, late and absent person-days, discipline notes, logs written ÷ working days.
Centre variables: the same rates from the supervision figures
(:func:`app.supervision.figures.centre_figures`, the one source of the dashboard), the logs
of all its windows, the latest inspection percent and the monthly report's timeliness.
A window or centre without logs in the month has no log variables (they show "—").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.calendar import services as calendar
from app.metrics import Figures
from app.staff import scheme as schemes
from app.staff.queries import assessment as queries
from app.staff.queries import worklogs as log_queries
from app.staff.summary import Summary, Tally, days, month_period, percent, summarise
from app.staff.worklog import today
from app.supervision.figures import centre_figures
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope, Tree


@dataclass(frozen=True)
class Scored:
    """One window or centre: its name, variables and score (None: no scheme yet)."""

    ident: int
    name: str
    slug: str
    score: schemes.Score | None
    variables: dict[str, Decimal | None]


def _log_variables(tally: Tally | None, working_days: int) -> dict[str, Decimal | None]:
    if tally is None or tally.days_logged == 0:
        return {
            "platform_usage": None, "attendance_rate": None, "late": None, "absent": None,
            "discipline_notes": None, "log_rate": percent(0, working_days),
        }  # fmt: skip
    return {
        "platform_usage": tally.platform_usage,
        "attendance_rate": tally.attendance_rate,
        "late": Decimal(tally.attendance["late"]),
        "absent": Decimal(tally.attendance["absent"]),
        "discipline_notes": Decimal(tally.discipline_notes),
        "log_rate": percent(tally.days_logged, working_days),
    }


async def month_logs(
    scope: TenantScope, tenant_id: int, month: int, now: datetime | None = None
) -> Summary:
    """The logs of a centre's month (up to today), aggregated per window and person."""
    period = month_period(month)
    last = min(period.last, today(now))
    cal = await calendar.load(scope, tenant_id)
    working = (
        [d for d in days(period.first, last) if cal.days.is_working_day(d)]
        if (last >= period.first)
        else []
    )
    windows = await tenancy.windows(scope, tenant_id)
    logs = await log_queries.logs_between(scope, tenant_id, period.first, period.last)
    return summarise(period, working, windows, logs)


async def month_logs_of(
    scope: TenantScope, tree: Tree, tenant_ids: list[int], month: int, now: datetime | None = None
) -> dict[int, Summary]:
    """``month_logs`` of many centres from four queries (the division's page over all of them)."""
    period = month_period(month)
    last = min(period.last, today(now))
    calendars = await calendar.load_days_of(scope, tenant_ids, tree)
    windows: dict[int, list[dict[str, Any]]] = {t: [] for t in tenant_ids}
    for window in await tenancy.windows_of(scope, tenant_ids):
        windows[int(window["tenant_id"])].append(window)
    logs: dict[int, list[dict[str, Any]]] = {t: [] for t in tenant_ids}
    for log in await log_queries.logs_between_of(scope, tenant_ids, period.first, period.last):
        logs[int(log["tenant_id"])].append(log)
    span = days(period.first, last) if last >= period.first else []
    return {
        t: summarise(
            period, [d for d in span if calendars[t].is_working_day(d)], windows[t], logs[t]
        )
        for t in tenant_ids
    }


async def window_scores(
    scope: TenantScope, tenant_id: int, month: int, version: dict[str, Any] | None,
    now: datetime | None = None,
) -> list[Scored]:  # fmt: skip
    counts = await queries.window_case_counts(scope, tenant_id, month)
    summary = await month_logs(scope, tenant_id, month, now)
    components = schemes.components_for(version, "window") if version else []
    out = []
    for window, tally in summary.windows:
        figures = Figures(counts.get(int(window["id"]), {}))
        values: dict[str, Decimal | None] = {
            "on_time_rate": figures.on_time_rate,
            "good_rate": figures.good_rate,
            "unrated_rate": figures.unrated_rate,
            **_log_variables(tally, summary.working_days),
        }
        result = schemes.score(components, "window", values) if version else None
        label = f"{window.get('code', '')} {window['name']}".strip()
        out.append(Scored(int(window["id"]), label, "", result, values))
    return out


async def _centre_rates(
    scope: TenantScope, tree: Tree, ids: list[int], month: int, now: datetime
) -> dict[int, dict[str, Any]]:
    """The case rates, inspection percent and report timeliness of each centre, from the
    supervision figures (the dashboard's and league table's one source)."""
    found = await centre_figures(scope, ids, month, now=now, tree=tree)
    return {
        i: {
            "on_time_rate": f.on_time_rate,
            "good_rate": f.good_rate,
            "unrated_rate": f.unrated_rate,
            "inspection_percent": f.inspection_percent,
            "report_on_time": None if f.report_on_time is None else Decimal(int(f.report_on_time)),
        }
        for i, f in found.items()
    }


async def centre_scores(
    scope: TenantScope, tree: Tree, centres: list[TenantNode], month: int,
    version: dict[str, Any] | None, now: datetime | None = None,
) -> list[Scored]:  # fmt: skip
    now = now or datetime.now(UTC)
    ids = [c.id for c in centres if c.id in scope.read_ids]
    rates = await _centre_rates(scope, tree, ids, month, now)
    components = schemes.components_for(version, "centre") if version else []
    out = []
    summaries = await month_logs_of(scope, tree, ids, month, now)
    for centre in centres:
        if centre.id not in scope.read_ids:
            continue
        summary = summaries[centre.id]
        tally = summary.centre if summary.centre.days_logged else None
        values: dict[str, Decimal | None] = {
            "on_time_rate": None, "good_rate": None, "unrated_rate": None,
            "inspection_percent": None, "report_on_time": None,
            **rates.get(centre.id, {}),
            **_log_variables(tally, summary.working_days * max(len(summary.windows), 1)),
        }  # fmt: skip
        result = schemes.score(components, "centre", values) if version else None
        out.append(Scored(centre.id, centre.name, centre.slug, result, values))
    return out


async def scheme_in_force(scope: TenantScope, tree: Tree, tenant_id: int) -> dict[str, Any] | None:
    """The scheme of the nearest division above (or at) the tenant that has one."""
    for owner in [tenant_id, *tree.ancestors(tenant_id)]:
        found = await queries.scheme_of(scope, owner)
        if found is not None:
            found["owner"] = tree.nodes[owner]
            return found
    return None


def month_of(text: str, now: datetime | None = None) -> int:
    """``yyyy-mm`` → yyyymm; anything else: the current local month."""
    try:
        year, mon = (int(p) for p in text.split("-"))
        if 2000 <= year <= 2100 and 1 <= mon <= 12 and len(text) == 7:
            return year * 100 + mon
    except ValueError:
        pass
    day: date = today(now)
    return day.year * 100 + day.month
