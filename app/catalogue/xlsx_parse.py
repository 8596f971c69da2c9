"""Reading an uploaded catalogue sheet: headers, rows, and each row's cells as content.

Nothing here trusts the file: it must be a zip whose parts unpack to a bounded size, a
workbook openpyxl can open, with the fixed headers of ``xlsx.COLUMNS``; formula cells are
refused.  Every problem names the sheet row, the column header and the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook

from app.catalogue.xlsx import (
    BY_HEADER,
    BY_KEY,
    CHANNEL_LABELS,
    CONDITION,
    FORM_LABELS,
    HEADERS,
    KIND_LABELS,
    NO,
    REQUIRED,
    SHEET,
    YES,
)
from app.web.i18n import gettext as _

MAX_ROWS = 1000
MAX_UNPACKED = 64 * 1024 * 1024  # bytes: a small .xlsx that unpacks to more is refused
SPLIT = re.compile(r"[｜|]")
LIST_SPLIT = re.compile(r"[、,，;；\s]+")
COPIES = re.compile(r"^(\d{1,2})\s*份?$")


class Unreadable(Exception):
    """Not a workbook we can read; ``message`` is for the upload field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    row: int  # the sheet's row number (the header is row 1)
    column: str  # the column header, or "" for the whole row or sheet
    reason: str


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # column key → raw cell value
    problems: list[Problem] = field(default_factory=list)  # cells that could not be read


@dataclass
class Sheet:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _open(data: bytes) -> Any:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise Unreadable(_("This is not an .xlsx workbook.")) from None
    if unpacked > MAX_UNPACKED:
        raise Unreadable(_("The workbook is too large once unpacked."))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise Unreadable(_("This is not an .xlsx workbook.")) from None


def read_sheet(data: bytes) -> Sheet:
    """The rows of the items sheet (or the first sheet), blank rows skipped."""
    wb = _open(data)
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        sheet = Sheet()
        rows = ws.iter_rows()
        header = next(rows, None)
        if header is None:
            sheet.problems.append(Problem(1, "", _("The sheet is empty.")))
            return sheet
        columns = _headers([c.value for c in header], sheet)
        if sheet.problems:
            return sheet
        for number, cells in enumerate(rows, start=2):
            row = Row(number, {})
            for position, cell in enumerate(cells):
                key = columns.get(position)
                if key is None or cell.value is None:
                    continue
                if cell.data_type == "f":
                    reason = _("Formulas are not accepted: enter text.")
                    row.problems.append(Problem(number, BY_KEY[key].header, reason))
                row.values[key] = cell.value
            if all(_blank(v) for v in row.values.values()):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                sheet.problems.append(
                    Problem(number, "", _("At most %(n)s items per import.", n=MAX_ROWS))
                )
                break
            sheet.rows.append(row)
        return sheet
    finally:
        wb.close()


def _headers(found: list[Any], sheet: Sheet) -> dict[int, str]:
    """Position → column key; every fixed header present once, nothing unknown."""
    from openpyxl.utils import get_column_letter

    columns: dict[int, str] = {}
    for position, value in enumerate(found):
        text = str(value).strip() if value is not None else ""
        if not text:
            continue
        column = BY_HEADER.get(text)
        letter = get_column_letter(position + 1)
        if column is None:
            sheet.problems.append(
                Problem(1, text, _("Unknown column in %(cell)s.", cell=f"{letter}1"))
            )
        elif column.key in columns.values():
            sheet.problems.append(Problem(1, text, _("This column appears twice.")))
        else:
            columns[position] = column.key
    for header in HEADERS:
        if BY_HEADER[header].key not in columns.values():
            sheet.problems.append(
                Problem(1, header, _("Missing column: use the headers of the import template."))
            )
    return columns


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


# --- one row → content --------------------------------------------------------------------


@dataclass
class Parsed:
    code: str
    content: dict[str, Any]
    effective_from: date | None = None
    note: str = ""
    mandatory: bool = False
    problems: list[Problem] = field(default_factory=list)

    def problem(self, row: int, key: str, reason: str) -> None:
        self.problems.append(Problem(row, BY_KEY[key].header, reason))


def parse_row(row: Row, departments: dict[str, dict[str, Any]]) -> Parsed:
    """The row's cells as item content; cells that cannot be read are left out and named."""
    n = row.number
    v = {k: value for k, value in row.values.items() if BY_KEY[k].header not in _columns(row)}
    out = Parsed(code="", content={}, problems=list(row.problems))
    code = v.get("code")
    if isinstance(code, int | float):
        out.problem(n, "code", _("Enter the code as text: a number loses its leading zeros."))
    else:
        out.code = text(code)
        if not out.code:
            out.problem(n, "code", _("Enter the item's code."))
    for key in ("name", "local_code", "conditions", "fees", "fee_basis", "legal_basis"):
        out.content[key] = text(v.get(key))
    for key in ("implementing_body", "result_document", "supervising_phone", "power_type"):
        out.content[key] = text(v.get(key))
    names = _department_names(departments)
    department = text(v.get("department"))
    if department:
        found = names.get(department)
        if found is None:
            out.problem(n, "department", _("Unknown department %(code)s.", code=department))
        else:
            out.content["department"] = found
    joint = []
    for part in _split(v.get("joint_departments")):
        if part not in names:
            out.problem(n, "joint_departments", _("Unknown department %(code)s.", code=part))
        joint.append(names.get(part, part))
    out.content["joint_departments"] = joint
    kind = text(v.get("kind"))
    kinds = {label: key for key, label in KIND_LABELS.items()} | {k: k for k in KIND_LABELS}
    if kind in kinds:
        out.content["kind"] = kinds[kind]
    elif kind:
        out.problem(n, "kind", _("Use one of: %(values)s.", values="、".join(KIND_LABELS.values())))
    for key in ("legal_halves", "promised_halves"):
        halves = _halves(v.get(key))
        if halves is None:
            out.problem(n, key, _("Enter working days in half-day steps, e.g. 20 or 2.5."))
        else:
            out.content[key] = halves
    channels, labels = [], {label: key for key, label in CHANNEL_LABELS.items()}
    for part in _split(v.get("channels")):
        if part in labels or part in CHANNEL_LABELS:
            channels.append(labels.get(part, part))
        else:
            values = "、".join(CHANNEL_LABELS.values())
            out.problem(n, "channels", _("Use one of: %(values)s.", values=values))
    if channels:
        out.content["channels"] = channels
    out.content["materials"] = _lines(out, n, "materials", v.get("materials"), _material)
    out.content["steps"] = _lines(out, n, "steps", v.get("steps"), _step)
    _version_fields(out, n, v)
    return out


def _columns(row: Row) -> set[str]:
    return {p.column for p in row.problems}


def _department_names(departments: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Code, short name or full name → code."""
    names: dict[str, str] = {}
    for code, row in departments.items():
        names.setdefault(row["name"], code)
        names.setdefault(row["short_name"], code)
    for code in departments:
        names[code] = code
    return names


def _split(value: Any) -> list[str]:
    return [p for p in LIST_SPLIT.split(text(value)) if p]


def _halves(value: Any) -> int | None:
    raw = text(value)
    if raw in ("即办", "当场", "0"):
        return 0
    try:
        number = Decimal(raw.removesuffix("个工作日").removesuffix("工作日").strip())
    except InvalidOperation:
        return None
    doubled = number * 2
    if not number.is_finite() or doubled != doubled.to_integral_value() or number < 0:
        return None
    return int(doubled)


def _lines(out: Parsed, n: int, key: str, value: Any, parse: Any) -> list[dict[str, Any]]:
    items = []
    for i, line in enumerate(x for x in text(value).split("\n") if x.strip()):
        try:
            items.append(parse([p.strip() for p in SPLIT.split(line)]))
        except ValueError as exc:
            out.problem(n, key, _("Line %(n)s: %(reason)s", n=i + 1, reason=str(exc)))
    return items


def _material(parts: list[str]) -> dict[str, Any]:
    name, form, copies, need, *note = [*parts, "", "", "", ""][: max(len(parts), 4)]
    forms = {label: key for key, label in FORM_LABELS.items()} | {
        "原件和复印件": "original_and_copy"
    }
    if not name:
        raise ValueError(_("the material has no name"))
    if form and form not in forms:
        raise ValueError(_("use one of: %(values)s", values="、".join(FORM_LABELS.values())))
    found = COPIES.match(copies) if copies else None
    if copies and not found:
        raise ValueError(_("the number of copies must be a whole number"))
    material: dict[str, Any] = {
        "name": name,
        "form": forms.get(form, "original"),
        "copies": int(found.group(1)) if found else 1,
        "requirement": "required",
        "condition": "",
        "note": "｜".join(p for p in note if p),
    }
    if need.startswith(CONDITION):
        material["requirement"] = "conditional"
        material["condition"] = need.removeprefix(CONDITION).lstrip(":：").strip()
        if not material["condition"]:
            raise ValueError(_("write the condition after 情形："))
    elif need not in ("", REQUIRED, "必需", "必须"):
        raise ValueError(_("write 必要, or 情形：followed by the condition"))
    return material


def _step(parts: list[str]) -> dict[str, Any]:
    name, actor, limit = [*parts, "", "", ""][:3]
    if not name or not actor:
        raise ValueError(_("a step needs its name and who does it"))
    halves = _halves(limit or "0")
    if halves is None:
        raise ValueError(_("enter working days in half-day steps, e.g. 20 or 2.5"))
    return {"name": name, "actor": actor, "halves": halves}


def _version_fields(out: Parsed, n: int, v: dict[str, Any]) -> None:
    effective = v.get("effective_from")
    if isinstance(effective, datetime):
        out.effective_from = effective.date()
    elif isinstance(effective, date):
        out.effective_from = effective
    elif not _blank(effective):
        try:
            out.effective_from = date.fromisoformat(text(effective))
        except ValueError:
            out.problem(n, "effective_from", _("Enter a date as YYYY-MM-DD."))
    out.note = text(v.get("note"))
    if len(out.note) > 300:
        out.problem(n, "note", _("At most 300 characters."))
    mandatory = text(v.get("mandatory"))
    if mandatory not in ("", YES, NO):
        out.problem(n, "mandatory", _("Use one of: %(values)s.", values=f"{YES}、{NO}"))
    out.mandatory = mandatory == YES
