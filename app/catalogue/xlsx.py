"""The catalogue as .xlsx: the fixed Chinese columns, cell formats, and the workbooks written.

One row per item.  Materials and process steps are one per line inside their cell::

    申请材料   名称｜原件/复印件/原件及复印件/电子版｜份数｜必要 或 情形：条件｜备注
    办理流程   环节｜办理人｜时限（工作日）

Time limits are written in working days (half-day steps: 2.5).  Every text cell is stored as
text, never as a formula: openpyxl turns a string starting with ``=`` into one (PITFALLS), so
``put`` sets the cell type back to string and the quote prefix on ``= + - @``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from app.catalogue.content import POWER_TYPES
from app.storage.filetypes import FileType

XLSX = FileType(
    "XLSX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
    (b"PK\x03\x04",),
)
SHEET = "事项"
GUIDE_SHEET = "填写说明"
SEP = "｜"
FORMULA_START = ("=", "+", "-", "@")
TEMPLATE_ROWS = 500  # rows pre-formatted as text in the import template


@dataclass(frozen=True)
class Column:
    key: str  # a content field, or a version field (effective_from, note, mandatory)
    header: str
    width: int
    text: bool = True  # formatted as text in the template (codes keep their leading zeros)


COLUMNS = (
    Column("code", "基本编码", 16),
    Column("name", "事项名称", 30),
    Column("local_code", "实施编码", 24),
    Column("department", "部门", 14),
    Column("power_type", "权力类型", 12),
    Column("kind", "办件类型", 10),
    Column("joint_departments", "联办部门", 16),
    Column("legal_halves", "法定时限（工作日）", 10, text=False),
    Column("promised_halves", "承诺时限（工作日）", 10, text=False),
    Column("conditions", "受理条件", 48),
    Column("materials", "申请材料", 56),
    Column("fees", "收费标准", 24),
    Column("fee_basis", "收费依据", 30),
    Column("legal_basis", "设定依据", 44),
    Column("implementing_body", "实施主体", 22),
    Column("result_document", "办理结果", 24),
    Column("supervising_phone", "监督电话", 15),
    Column("channels", "办理渠道", 14),
    Column("steps", "办理流程", 40),
    Column("effective_from", "生效日期", 12, text=False),
    Column("note", "变更说明", 24),
    Column("mandatory", "强制更新", 9),
)
BY_KEY = {c.key: c for c in COLUMNS}
BY_HEADER = {c.header: c for c in COLUMNS}
HEADERS = [c.header for c in COLUMNS]
VERSION_KEYS = ("effective_from", "note", "mandatory")

KIND_LABELS = {
    "immediate": "即办件",
    "promised": "承诺件",
    "joint": "联办件",
    "escalated": "上报件",
}
CHANNEL_LABELS = {"window": "窗口", "online": "网上", "regiment": "团场"}
FORM_LABELS = {
    "original": "原件",
    "copy": "复印件",
    "original_and_copy": "原件及复印件",
    "electronic": "电子版",
}
REQUIRED = "必要"
CONDITION = "情形"
YES, NO = "是", "否"


# --- content → cell text ------------------------------------------------------------------


def days(halves: int | None) -> int | float | None:
    """Half working days as working days: 60 → 30, 5 → 2.5."""
    if halves is None:
        return None
    return halves // 2 if halves % 2 == 0 else halves / 2


def material_line(m: dict[str, Any]) -> str:
    need = (
        REQUIRED
        if m.get("requirement", "required") == "required"
        else f"{CONDITION}：{m.get('condition', '')}"
    )
    parts = [
        m["name"],
        FORM_LABELS.get(m.get("form", "original"), ""),
        str(m.get("copies", 1)),
        need,
    ]
    if m.get("note"):
        parts.append(m["note"])
    return SEP.join(parts)


def step_line(s: dict[str, Any]) -> str:
    return SEP.join([s["name"], s["actor"], str(days(s.get("halves", 0)))])


def department_name(code: str, departments: dict[str, dict[str, Any]]) -> str:
    row = departments.get(code)
    return row["short_name"] if row else code


def cells(content: dict[str, Any], departments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Column key → the cell value for one item's content (version fields left out)."""
    out: dict[str, Any] = {}
    for column in COLUMNS:
        key = column.key
        value = content.get(key)
        if key in VERSION_KEYS or key == "code":
            continue
        if key == "department":
            value = department_name(value or "", departments)
        elif key == "joint_departments":
            value = "、".join(department_name(c, departments) for c in value or [])
        elif key == "kind":
            value = KIND_LABELS.get(value or "", value)
        elif key in ("legal_halves", "promised_halves"):
            value = days(value)
        elif key == "channels":
            value = "、".join(CHANNEL_LABELS.get(c, c) for c in value or [])
        elif key == "materials":
            value = "\n".join(material_line(m) for m in value or [])
        elif key == "steps":
            value = "\n".join(step_line(s) for s in value or [])
        out[key] = value if value is not None else ""
    return out


# --- writing ------------------------------------------------------------------------------


def put(ws: Worksheet, row: int, column: int, value: Any) -> None:
    """Write one cell; text stays text (never a formula), whatever it starts with."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
        if "\n" in text:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = value


HEAD_FONT = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _header(ws: Worksheet, headers: list[str], widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        put(ws, 1, i, text)
        ws.cell(row=1, column=i).font = HEAD_FONT
        ws.cell(row=1, column=i).fill = HEAD_FILL
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C2"


def _items_sheet(wb: Workbook) -> Worksheet:
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    _header(ws, HEADERS, [c.width for c in COLUMNS])
    return ws


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _guide(wb: Workbook, departments: dict[str, dict[str, Any]]) -> None:
    """The second sheet: how to fill each column, the allowed values and the departments."""
    ws = wb.create_sheet(GUIDE_SHEET)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 90
    lines: list[tuple[str, str]] = [
        ("填写说明", "“事项”工作表每行一个事项；第一行表头不得修改。导入时先预检，确认后才写入。"),
        (
            "基本编码",
            "必填，4–32位字母、数字或“-”，请以文本格式填写（保留开头的0）。已有编码视为修改，将生成新版本；新编码视为新增。",
        ),
        ("事项名称", "必填，2–120字。"),
        ("部门", "填部门编码、简称或全称，见下方部门列表。"),
        ("权力类型", "、".join(POWER_TYPES)),
        ("办件类型", "、".join(KIND_LABELS.values()) + "。即办件承诺时限为0；联办件须填联办部门。"),
        ("联办部门", "仅联办件填写，多个部门用“、”分隔。"),
        ("时限", "法定时限、承诺时限以工作日计，可填半天（如2.5）；承诺时限不得超过法定时限。"),
        (
            "申请材料",
            "每行一项：名称｜原件/复印件/原件及复印件/电子版｜份数｜必要 或 情形：条件｜备注",
        ),
        ("", "例：户口簿｜原件及复印件｜1｜必要"),
        ("", "例：离婚证｜复印件｜1｜情形：申请人离异的｜原件核对后退还"),
        ("收费标准", "不收费的填写“不收费”；收费的写明标准，并在“收费依据”列写明文件。"),
        ("办理渠道", "、".join(CHANNEL_LABELS.values()) + "，可多选，用“、”分隔。"),
        (
            "办理流程",
            "可选，每行一个环节：环节｜办理人｜时限（工作日），例：审核｜民政局社会救助科｜7",
        ),
        ("生效日期", "可选，YYYY-MM-DD；空白为今天。修改已有事项时，新版本最早自今天起生效。"),
        ("变更说明", "可选，记入新版本。"),
        ("强制更新", "是/否（空白为否）。“是”表示新版本到生效日期自动适用于已承接该事项的中心。"),
        ("", ""),
        ("部门编码", "部门简称 / 全称"),
    ]
    lines += [(code, f"{row['short_name']} / {row['name']}") for code, row in departments.items()]
    for i, (a, b) in enumerate(lines, start=1):
        put(ws, i, 1, a)
        put(ws, i, 2, b)
        ws.cell(row=i, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(row=1, column=1).font = HEAD_FONT


def _validations(ws: Worksheet) -> None:
    """Drop-down lists for the closed columns (a hint: the import checks them anyway)."""
    from openpyxl.utils import get_column_letter

    for key, values in (
        ("power_type", list(POWER_TYPES)),
        ("kind", list(KIND_LABELS.values())),
        ("mandatory", [YES, NO]),
    ):
        letter = get_column_letter(HEADERS.index(BY_KEY[key].header) + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        check.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(check)


def import_template(departments: dict[str, dict[str, Any]]) -> bytes:
    """The empty import sheet: fixed headers, text-formatted code columns, drop-downs, guide."""
    wb = Workbook()
    ws = _items_sheet(wb)
    for i, column in enumerate(COLUMNS, start=1):
        if column.text:
            for row in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row=row, column=i).number_format = "@"
    _validations(ws)
    _guide(wb, departments)
    return _save(wb)


def catalogue_workbook(
    items: Iterable[tuple[str, dict[str, Any], date | None]],
    departments: dict[str, dict[str, Any]],
) -> bytes:
    """The division's catalogue in the import layout: (code, newest content, its date)."""
    wb = Workbook()
    ws = _items_sheet(wb)
    for r, (code, content, effective) in enumerate(items, start=2):
        values = {**cells(content, departments), "code": code, "effective_from": effective}
        for i, column in enumerate(COLUMNS, start=1):
            put(ws, r, i, values.get(column.key, ""))
    _validations(ws)
    _guide(wb, departments)
    return _save(wb)


ADOPTED_HEADERS = [
    ("基本编码", 16),
    ("事项名称", 30),
    ("部门", 14),
    ("办件类型", 10),
    ("版本", 6),
    ("窗口", 22),
    ("A岗", 12),
    ("B岗", 12),
    ("承诺时限（工作日）", 10),
    ("法定时限（工作日）", 10),
    ("本中心备注", 30),
    ("状态", 8),
]


def adopted_workbook(rows: Iterable[list[Any]]) -> bytes:
    """A centre's adopted items, one row each, in ``ADOPTED_HEADERS`` order."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "本中心事项"
    _header(ws, [h for h, _w in ADOPTED_HEADERS], [w for _h, w in ADOPTED_HEADERS])
    for r, row in enumerate(rows, start=2):
        for i, value in enumerate(row, start=1):
            put(ws, r, i, value)
    return _save(wb)
