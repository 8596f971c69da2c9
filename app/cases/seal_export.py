"""The seal ledger as .xlsx: one row per use of a seal, the filter of the page applied.

Every text cell goes through :func:`app.catalogue.xlsx.put`, so a seal name or an item name
starting with ``= + - @`` stays text (never a formula: PITFALLS, openpyxl).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from app.cases.print_routes import DOCUMENT_KINDS
from app.catalogue.xlsx import HEAD_FILL, HEAD_FONT, put
from app.web.i18n import gettext as _
from app.web.templating import local_time

MAX_ROWS = 50_000


def headers() -> list[tuple[str, int]]:
    return [
        (_("Used at"), 18),
        (_("Seal"), 28),
        (_("Case number"), 20),
        (_("Item"), 32),
        (_("Document number"), 24),
        (_("Document"), 16),
        (_("Used by"), 14),
    ]


def row_values(row: dict[str, Any]) -> list[Any]:
    kind = row.get("document_kind") or ""
    return [
        local_time(row["used_at"]),
        row.get("seal_name") or "",
        row.get("case_number") or "",
        row.get("item_name") or "",
        row.get("document_number") or "",
        str(DOCUMENT_KINDS.get(kind, kind)),
        row.get("used_by_name") or "",
    ]


def ledger_workbook(centre: str, rows: Iterable[dict[str, Any]]) -> bytes:
    """The workbook: a title line (centre), the header, then the rows."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Seal ledger")[:31]
    put(ws, 1, 1, _("Seal ledger") + " · " + centre)
    ws.cell(row=1, column=1).font = HEAD_FONT
    for column, (text, width) in enumerate(headers(), start=1):
        put(ws, 2, column, text)
        cell = ws.cell(row=2, column=column)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A3"
    for number, row in enumerate(rows, start=3):
        for column, value in enumerate(row_values(row), start=1):
            put(ws, number, column, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
