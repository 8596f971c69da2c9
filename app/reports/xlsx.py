"""Monthly reports as .xlsx: one centre's submission, and the roll-up of a subtree.

Numbers are numeric cells; every text (a centre's own words above all: it may type
``=HYPERLINK(…)`` into a text field) is written through :func:`put`, which keeps it a string
cell with the quote prefix on ``= + - @`` and tab/CR — never a formula (PITFALLS, openpyxl).
Header rows are bold, columns sized, panes frozen below the header.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.calendar.workdays import SHANGHAI
from app.catalogue.xlsx import HEAD_FILL, HEAD_FONT, XLSX
from app.catalogue.xlsx import put as put_cell
from app.reports.definition import LEVELS, Definition, FieldDef
from app.reports.periods import month_label
from app.reports.rollup import FieldTotal, Grid, Rate
from app.reports.values import YES, RuleResult
from app.tenancy.scope import TenantNode
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

__all__ = ["XLSX", "RollupData", "rollup_workbook", "submission_workbook"]

Progress = Callable[[int, int], None]
RISKY_START = ("\t", "\r")  # also kept as text with the quote prefix (OWASP's list)
STATE_LABELS: dict[str, Any] = {
    "none": _l("Not started"),
    "draft": _l("Draft"),
    "on_time": _l("Submitted on time"),
    "late": _l("Submitted late"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
}
STATUS_LABELS: dict[str, Any] = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "endorsed": _l("Approved by the regiment"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}
ACTION_LABELS: dict[str, Any] = {
    "submitted": _l("Submitted"),
    "endorsed": _l("Approved by the regiment"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
    "exception": _l("Exception granted"),
}
PERCENT = "0.0%"
WHEN = "yyyy-mm-dd hh:mm"


def put(ws: Worksheet, row: int, column: int, value: Any) -> None:
    """One cell: numbers numeric, moments in local time, text always text."""
    if isinstance(value, datetime):
        cell = ws.cell(row=row, column=column)
        cell.value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        cell.number_format = WHEN
        return
    if isinstance(value, bool):
        value = _("Yes") if value else _("No")
    elif isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    elif value is None:
        value = ""
    elif not isinstance(value, (int, float, str)) and not hasattr(value, "isoformat"):
        value = str(value)  # lazy translations and the like
    put_cell(ws, row, column, value)
    if isinstance(value, str) and value.startswith(RISKY_START):
        ws.cell(row=row, column=column).quotePrefix = True


def header(ws: Worksheet, row: int, columns: Sequence[tuple[str, int]], freeze: str) -> None:
    for i, (text, width) in enumerate(columns, start=1):
        put(ws, row, i, text)
        cell = ws.cell(row=row, column=i)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, width)
    ws.freeze_panes = freeze


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(wb: Workbook, title: str, first: bool = False) -> Worksheet:
    if first:
        ws = wb.active
        assert ws is not None
        ws.title = title[:31]
        return ws
    return wb.create_sheet(title[:31])


def number_of(f: FieldDef, stored: Any) -> Any:
    """The cell value of a stored field: a number for number fields, text otherwise."""
    text = "" if stored is None else str(stored)
    if not text:
        return ""
    if f.type == "yesno":
        return _("Yes") if text == YES else _("No")
    if f.type in ("integer", "decimal", "percent"):
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    return text


def _source_value(f: FieldDef, sources: Mapping[str, Any]) -> Any:
    entry = sources.get(f.key)
    if not f.source or not isinstance(entry, dict) or entry.get("value") is None:
        return ""
    return number_of(f, entry["value"])


# --- one submission ------------------------------------------------------------------------


def submission_workbook(
    definition: Definition,
    form: Mapping[str, Any],
    period: Mapping[str, Any],
    centre: str,
    submission: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    rules: Sequence[RuleResult] = (),
) -> bytes:
    """Sheet 1: the values (section, field, value, unit, case-record figure, correction
    note) under a few lines naming the report; sheet 2: rule results and the centre's
    comments; sheet 3: the history, newest first."""
    wb = Workbook()
    ws = _sheet(wb, _("Report"), first=True)
    status = submission.get("status") or "draft"
    facts: list[tuple[str, Any]] = [
        (_("Report form"), form.get("title", "")),
        (_("Centre"), centre),
        (_("Month"), month_label(int(period["month"]))),
        (_("Due by"), period["due_on"].isoformat()),
        (_("Status"), str(STATUS_LABELS.get(status, status))),
        (_("Submitted at"), submission.get("first_submitted_at") or ""),
        (
            _("Filed on time"),
            submission.get("on_time") if submission.get("on_time") is not None else "",
        ),
        (_("Return reason"), submission.get("return_reason") or ""),
    ]
    for r, (label, value) in enumerate(facts, start=1):
        put(ws, r, 1, label)
        ws.cell(row=r, column=1).font = HEAD_FONT
        put(ws, r, 2, value)
    top = len(facts) + 2
    header(
        ws,
        top,
        [
            (_("Section"), 22),
            (_("Field"), 34),
            (_("Value"), 16),
            (_("Unit"), 8),
            (_("From case records"), 16),
            (_("Correction note"), 40),
        ],
        f"C{top + 1}",
    )
    values = submission.get("values") or {}
    sources = submission.get("sources") or {}
    corrections = submission.get("corrections") or {}
    row = top + 1
    for section in definition.sections:
        for f in section.fields:
            put(ws, row, 1, section.title)
            put(ws, row, 2, f.label)
            put(ws, row, 3, number_of(f, values.get(f.key)))
            put(ws, row, 4, f.unit)
            put(ws, row, 5, _source_value(f, sources))
            put(ws, row, 6, corrections.get(f.key, ""))
            row += 1
    _rules_sheet(wb, rules, submission.get("comments") or {})
    _history_sheet(wb, events)
    return _save(wb)


def _rule_result(result: RuleResult) -> str:
    if result.ok is True:
        return _("Passed")
    if result.ok is False:
        return _("Not met")
    return _("Cannot be checked") + (f": {result.reason}" if result.reason else "")


def _rules_sheet(wb: Workbook, rules: Sequence[RuleResult], comments: Mapping[str, str]) -> None:
    ws = _sheet(wb, _("Checks"))
    header(
        ws,
        1,
        [
            (_("Rule"), 18),
            (_("Blocking or warning"), 10),
            (_("Message"), 40),
            (_("Expression"), 36),
            (_("Result"), 16),
            (_("Explanation"), 40),
        ],
        "B2",
    )
    for r, result in enumerate(rules, start=2):
        put(ws, r, 1, result.key)
        put(ws, r, 2, str(LEVELS.get(result.level, result.level)))
        put(ws, r, 3, result.message)
        put(ws, r, 4, result.expr)
        put(ws, r, 5, _rule_result(result))
        put(ws, r, 6, result.comment or comments.get(result.key, ""))


def _history_sheet(wb: Workbook, events: Sequence[Mapping[str, Any]]) -> None:
    ws = _sheet(wb, _("History"))
    header(
        ws,
        1,
        [(_("When"), 18), (_("Action"), 16), (_("Revision"), 8), (_("By"), 16), (_("Note"), 48)],
        "A2",
    )
    for r, event in enumerate(events, start=2):
        action = event.get("action") or ""
        put(ws, r, 1, event.get("at"))
        put(ws, r, 2, str(ACTION_LABELS.get(action, action)))
        put(ws, r, 3, int(event.get("revision") or 0))
        put(ws, r, 4, event.get("actor_name") or "")
        put(ws, r, 5, event.get("note") or "")


# --- the roll-up ---------------------------------------------------------------------------


@dataclass
class RollupData:
    """What the roll-up export holds: the fields' totals and the status grid."""

    form_title: str
    under: str  # the subtree's name
    first: int
    last: int
    centres: list[TenantNode]
    totals: list[FieldTotal]
    grid: Grid

    @property
    def rows(self) -> int:
        """Rows the export writes (its progress total): each centre on each sheet."""
        return 2 * len(self.centres)


def _field_header(f: FieldDef) -> str:
    return f"{f.label}（{f.unit}）" if f.unit else f.label


def rollup_workbook(data: RollupData, progress: Progress | None = None) -> bytes:
    """Sheet 1: centres × totalled fields with the totals row (sums, or means for averaged
    fields); sheet 2: each centre's status per month with its reporting and on-time rates,
    and the rates per month; sheet 3: what was exported.  ``progress(done, total)`` is
    called after each centre row."""
    total = data.rows
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    wb = Workbook()
    ws = _sheet(wb, _("Roll-up"), first=True)
    columns = [(_("Centre"), 28)]
    columns += [
        (_field_header(t.field), max(10, min(24, len(t.field.label) * 2))) for t in data.totals
    ]
    header(ws, 1, columns, "B2")
    row = 2
    for centre in data.centres:
        put(ws, row, 1, centre.name)
        for c, item in enumerate(data.totals, start=2):
            put(ws, row, c, item.by_centre.get(centre.id))
        row += 1
        step()
    put(ws, row, 1, _("Total"))
    ws.cell(row=row, column=1).font = HEAD_FONT
    for c, item in enumerate(data.totals, start=2):
        put(ws, row, c, item.total)
        ws.cell(row=row, column=c).font = HEAD_FONT
    if any(t.from_cases is not None for t in data.totals):
        row += 1
        put(ws, row, 1, _("From case records"))
        for c, item in enumerate(data.totals, start=2):
            put(ws, row, c, item.from_cases)
    _grid_sheet(wb, data.grid, step)
    _about_sheet(wb, data)
    return _save(wb)


def _put_rate(ws: Worksheet, row: int, column: int, value: Decimal | None) -> None:
    put(ws, row, column, "" if value is None else value / 100)
    ws.cell(row=row, column=column).number_format = PERCENT


def _grid_sheet(wb: Workbook, grid: Grid, step: Callable[[], None]) -> None:
    ws = _sheet(wb, _("Filing status"))
    months = grid.months
    columns = [(_("Centre"), 28)]
    columns += [(month_label(m), 14) for m in months]
    columns += [(_("Reporting rate"), 12), (_("On-time rate"), 12)]
    header(ws, 1, columns, "B2")
    filed_col, on_time_col = len(months) + 2, len(months) + 3
    row = 2
    for centre in grid.centres:
        put(ws, row, 1, centre.name)
        for c, month in enumerate(months, start=2):
            cell = grid.cell(centre.id, month)
            label = str(STATE_LABELS.get(cell.state, cell.state))
            if cell.endorsed:
                label += " · " + _("approved by the regiment")
            put(ws, row, c, label)
        rate = grid.by_centre.get(centre.id) or Rate()
        _put_rate(ws, row, filed_col, rate.filed_rate)
        _put_rate(ws, row, on_time_col, rate.on_time_rate)
        row += 1
        step()
    for label, column, pick in (
        (_("Reporting rate"), filed_col, lambda r: r.filed_rate),
        (_("On-time rate"), on_time_col, lambda r: r.on_time_rate),
    ):
        put(ws, row, 1, label)
        ws.cell(row=row, column=1).font = HEAD_FONT
        for c, month in enumerate(months, start=2):
            _put_rate(ws, row, c, pick(grid.by_month.get(month) or Rate()))
        _put_rate(ws, row, column, pick(grid.overall))
        row += 1


def _about_sheet(wb: Workbook, data: RollupData) -> None:
    ws = _sheet(wb, _("About"))
    header(ws, 1, [(_("Setting"), 16), (_("Value"), 48)], "A2")
    lines: list[tuple[str, Any]] = [
        (_("Report form"), data.form_title),
        (_("Centres under"), data.under),
        (_("From month"), month_label(data.first)),
        (_("To month"), month_label(data.last)),
        (_("Number of centres"), len(data.centres)),
    ]
    for r, (label, value) in enumerate(lines, start=2):
        put(ws, r, 1, label)
        put(ws, r, 2, value)
