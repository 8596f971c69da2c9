"""The division's roll-up of monthly reports over a subtree and a range of months.

* the status grid: centres × months — not started, draft, submitted on time or late,
  returned, approved (``endorsed``: approved by the regiment, waiting for the division);
* completeness (reporting rate = reports filed ÷ centres expected) and timeliness (filed by
  the due day ÷ expected) per month and per centre; *filed* means submitted and not
  returned (submitted, endorsed or approved);
* each field summed (or averaged, for percentages) over the subtree, per centre and per
  month (trend), from the numbers of filed reports only — written in the same transaction
  as each submission, so never behind one; next to them the same figures from the case
  records (app.metrics, kept current within a minute).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.metrics import COUNTS, months_between, total
from app.reports import periods
from app.reports.definition import Definition, FieldDef
from app.reports.queries import rollup as queries
from app.tenancy.scope import TenantNode, TenantScope, Tree

STATES = ("none", "draft", "on_time", "late", "returned", "approved")


@dataclass(frozen=True)
class Cell:
    state: str  # one of STATES
    submission_id: int | None = None
    endorsed: bool = False  # the regiment approved; the division has not yet
    revision: int = 0


@dataclass
class Rate:
    filed: int = 0
    on_time: int = 0
    expected: int = 0

    @property
    def filed_rate(self) -> Decimal | None:
        return _pct(self.filed, self.expected)

    @property
    def on_time_rate(self) -> Decimal | None:
        return _pct(self.on_time, self.expected)


def _pct(n: int, d: int) -> Decimal | None:
    if not d:
        return None
    return (Decimal(100 * n) / d).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Grid:
    months: list[int]  # the months shown (oldest first) that have an open period
    centres: list[TenantNode]
    cells: dict[tuple[int, int], Cell]
    by_month: dict[int, Rate] = field(default_factory=dict)
    by_centre: dict[int, Rate] = field(default_factory=dict)
    overall: Rate = field(default_factory=Rate)

    def cell(self, tenant_id: int, month: int) -> Cell:
        return self.cells.get((tenant_id, month), Cell("none"))


def _state(row: dict[str, Any]) -> Cell:
    status = row["status"]
    if status == "draft":
        return Cell("draft", row["id"], revision=int(row["revision"] or 0))
    if status == "returned":
        return Cell("returned", row["id"], revision=int(row["revision"] or 0))
    if status == "approved":
        return Cell("approved", row["id"], revision=int(row["revision"] or 0))
    on_time = row["on_time"] in (True, 1)
    return Cell(
        "on_time" if on_time else "late",
        row["id"],
        endorsed=status == "endorsed",
        revision=int(row["revision"] or 0),
    )


def is_filed(cell: Cell) -> bool:
    return cell.state in ("on_time", "late", "approved")


async def grid(
    scope: TenantScope,
    tree: Tree,
    form: dict[str, Any],
    kinds: list[str],
    under_id: int,
    open_months: list[int],
    first: int,
    last: int,
) -> Grid:
    """The grid of ``form`` for the centres under ``under_id`` (that file it) from month
    ``first`` to ``last``; only months in ``open_months`` (periods opened) are counted."""
    opened, under = set(open_months), tree.subtree(under_id)  # once, not per centre
    months = [m for m in months_between(first, last) if m in opened]
    centres = [
        n
        for n in periods.filers(tree, form["tenant_id"], kinds)
        if n.id in under and n.id in scope.read_ids
    ]
    rows = await queries.grid(scope, form["id"], [n.id for n in centres], first, last)
    cells: dict[tuple[int, int], Cell] = {}
    on_time: dict[tuple[int, int], bool] = {}
    for row in rows:
        key = (int(row["tenant_id"]), int(row["month"]))
        cells[key] = _state(row)
        on_time[key] = row["on_time"] in (True, 1)
    out = Grid(months, centres, cells)
    for month in months:
        out.by_month[month] = Rate()
    for centre in centres:
        out.by_centre[centre.id] = Rate()
    for month in months:
        for centre in centres:
            cell = cells.get((centre.id, month), Cell("none"))
            for rate in (out.by_month[month], out.by_centre[centre.id], out.overall):
                rate.expected += 1
                if is_filed(cell):
                    rate.filed += 1
                    if on_time.get((centre.id, month)):
                        rate.on_time += 1
    return out


@dataclass
class FieldTotal:
    field: FieldDef
    total: Decimal | None  # sum, or the mean for averaged fields
    reports: int
    by_centre: dict[int, Decimal | None]
    from_cases: Decimal | None = None  # the same figure from the case records, if sourced


def _combine(f: FieldDef, total_value: Any, reports: int) -> Decimal | None:
    if not reports or total_value is None:
        return None
    value = Decimal(str(total_value))
    if f.rollup == "mean":
        return (value / reports).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return value.normalize() if value == value.to_integral_value() else value


async def totals(
    scope: TenantScope,
    definition: Definition,
    form_id: int,
    centre_ids: list[int],
    first: int,
    last: int,
    keys: list[str] | None = None,
) -> list[FieldTotal]:
    """Every totalled field (or ``keys``) over the centres and months, with per-centre values
    and, for fields filled from case records, the case figures over the same range."""
    fields = [f for f in definition.fields() if f.rollup != "none"]
    if keys is not None:
        fields = [f for f in fields if f.key in keys]
    rows = await queries.field_values(
        scope, form_id, [f.key for f in fields], centre_ids, first, last
    )
    sums: dict[str, list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    per: dict[tuple[str, int], tuple[Any, int]] = {}
    for row in rows:
        entry = sums[row["field"]]
        entry[0] += Decimal(str(row["total"]))
        entry[1] += int(row["reports"])
        per[(row["field"], int(row["tenant_id"]))] = (row["total"], int(row["reports"]))
    sourced = [f.source for f in fields if f.source in COUNTS]
    case_rows = await queries.case_figures(scope, centre_ids, first, last, list(COUNTS))
    figures = total(case_rows) if sourced or any(f.source for f in fields) else None
    out = []
    for f in fields:
        value, reports = sums[f.key] if f.key in sums else (None, 0)
        item = FieldTotal(
            f,
            _combine(f, value, reports),
            reports,
            {
                cid: _combine(f, *per[(f.key, cid)]) if (f.key, cid) in per else None
                for cid in centre_ids
            },
        )
        if figures is not None and f.source:
            item.from_cases = _case_value(figures, f.source)
        out.append(item)
    return out


def _case_value(figures: Any, source: str) -> Decimal | None:
    if source == "good":
        return Decimal(figures.good)
    if source in ("good_rate", "unrated_rate", "on_time_rate"):
        return getattr(figures, source)  # type: ignore[no-any-return]
    if source in COUNTS:
        return Decimal(figures[source])
    return None  # carried_over is a stock, not summed over months


async def trend(
    scope: TenantScope,
    f: FieldDef,
    form_id: int,
    centre_ids: list[int],
    first: int,
    last: int,
) -> list[tuple[int, Decimal | None, int]]:
    """(month, total or mean, reports) for every month of the range (None: no reports)."""
    rows = {
        int(r["month"]): r
        for r in await queries.field_months(scope, form_id, f.key, centre_ids, first, last)
    }
    out = []
    for month in months_between(first, last):
        row = rows.get(month)
        reports = int(row["reports"]) if row else 0
        out.append((month, _combine(f, row["total"] if row else None, reports), reports))
    return out


async def centre_months(
    scope: TenantScope, f: FieldDef, form_id: int, tenant_id: int, first: int, last: int
) -> dict[int, Decimal | None]:
    """One centre's value of one field per month (the drill-down below a total)."""
    rows = await queries.field_values(
        scope, form_id, [f.key], [tenant_id], first, last, by_month=True
    )
    return {int(r["month"]): _combine(f, r["total"], int(r["reports"])) for r in rows}
