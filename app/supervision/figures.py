"""The supervision figures of centres for one month (电子监察) — the one place the dashboard,
the league table and the assessment (考核) read them from.

:func:`centre_figures` answers many centres with a handful of grouped queries:

- ``overdue`` / ``due_soon`` / ``legal_exceeded``: open cases by their *stored* light
  columns (``Case.light``, ``Case.legal_exceeded``) — never recomputed here; a snapshot of
  now, whatever the month (lights have no history);
- ``on_time_rate`` / ``good_rate`` / ``unrated_rate``: :class:`app.metrics.Figures` of the
  stored month (``case_month_stat``);
- ``open_rectifications`` / ``overdue_rectifications``: the ledger now (整改);
- ``report_on_time`` / ``report_state``: the month's report (app.metrics "report
  timeliness");
- ``inspection_percent`` / ``inspection_at``: the latest submitted or acknowledged
  inspection up to the end of the month.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.metrics import Figures, month_range, report_timeliness, total
from app.reports.periods import local_today
from app.supervision.queries import figures as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree


@dataclass(frozen=True)
class CentreFigures:
    tenant_id: int
    month: int
    overdue: int = 0  # open, red or past the legal limit
    due_soon: int = 0  # open, yellow
    legal_exceeded: int = 0  # open, past the legal limit
    on_time_rate: Decimal | None = None
    good_rate: Decimal | None = None
    unrated_rate: Decimal | None = None
    concluded: int = 0
    rated: int = 0
    open_rectifications: int = 0
    overdue_rectifications: int = 0
    report_on_time: bool | None = None  # None: nothing due yet
    report_state: str = "none"  # app.metrics.REPORT_STATES
    inspection_percent: Decimal | None = None
    inspection_at: datetime | None = None
    inspection_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def figures(self) -> Figures:
        return Figures(self.counts)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _bool(value: Any) -> bool | None:
    return None if value is None else value in (True, 1)


async def _reports(
    scope: TenantScope, tree: Tree, ids: list[int], month: int, today: date
) -> dict[int, tuple[bool | None, str]]:
    """(report_on_time, report_state) per centre for ``month`` (see app.metrics)."""
    subs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await queries.submissions(scope, ids, month):
        subs[int(row["tenant_id"])].append(row)
    owners = {a for t in ids for a in (t, *tree.ancestors(t))}
    readable = scope.read_ids | scope.shared_ids
    periods = await queries.periods(scope, [o for o in owners if o in readable], month)
    out: dict[int, tuple[bool | None, str]] = {}
    for tenant_id in ids:
        node = tree.nodes.get(tenant_id)
        line = {tenant_id, *tree.ancestors(tenant_id)}
        due: list[date] = []
        for period in periods:
            definition = period.get("definition") or {}
            if isinstance(definition, str):
                definition = json.loads(definition)
            kinds = definition.get("filers") or []
            if int(period["tenant_id"]) in line and node is not None and node.kind in kinds:
                due.append(_day(period["due_on"]))
        states = [(r["status"], _bool(r["on_time"])) for r in subs.get(tenant_id, [])]
        out[tenant_id] = report_timeliness(states, due, today)
    return out


async def centre_figures(
    scope: TenantScope,
    tenant_ids: list[int],
    month: int,
    *,
    now: datetime | None = None,
    tree: Tree | None = None,
) -> dict[int, CentreFigures]:
    """The figures of each centre in ``tenant_ids`` the scope may read, for ``month``
    (yyyymm); centres outside the scope are left out."""
    now = now or datetime.now(UTC)
    ids = queries.allowed(scope, tenant_ids)
    if not ids:
        return {}
    tree = tree or await tenancy.tree()
    _start, end = month_range(month)

    lights: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in await queries.light_counts(scope, ids):
        n, bucket = int(row["n"]), lights[int(row["tenant_id"])]
        exceeded = _bool(row["legal_exceeded"])
        if row["light"] == "red" or exceeded:
            bucket["overdue"] += n
        elif row["light"] == "yellow":
            bucket["due_soon"] += n
        if exceeded:
            bucket["legal_exceeded"] += n

    stats: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await queries.month_rows(scope, ids, month, month):
        stats[int(row["tenant_id"])].append(row)

    rects = {r["tenant_id"]: r for r in await queries.rectification_counts(scope, ids, now)}
    reports = await _reports(scope, tree, ids, month, local_today(now))

    latest: dict[int, dict[str, Any]] = {}
    for row in await queries.inspections(scope, ids, end):
        latest.setdefault(int(row["tenant_id"]), row)

    out: dict[int, CentreFigures] = {}
    for tenant_id in ids:
        figs = total(stats.get(tenant_id, []))
        light = lights.get(tenant_id, {})
        rect = rects.get(tenant_id, {})
        on_time, state = reports[tenant_id]
        insp = latest.get(tenant_id)
        percent = insp["percent"] if insp else None
        out[tenant_id] = CentreFigures(
            tenant_id=tenant_id,
            month=month,
            overdue=light.get("overdue", 0),
            due_soon=light.get("due_soon", 0),
            legal_exceeded=light.get("legal_exceeded", 0),
            on_time_rate=figs.on_time_rate,
            good_rate=figs.good_rate,
            unrated_rate=figs.unrated_rate,
            concluded=figs["concluded"],
            rated=figs["rated"],
            open_rectifications=int(rect.get("open", 0)),
            overdue_rectifications=int(rect.get("overdue", 0)),
            report_on_time=on_time,
            report_state=state,
            inspection_percent=None if percent is None else Decimal(str(percent)),
            inspection_at=_when(insp["submitted_at"]) if insp else None,
            inspection_id=int(insp["id"]) if insp else None,
            counts=dict(figs.counts),
        )
    return out
