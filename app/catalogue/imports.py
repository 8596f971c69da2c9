"""Importing the catalogue from .xlsx: a dry run that writes nothing, then the confirmed
import in one transaction.

The dry run lists every problem (row, column, reason) and, when there are none, what would
be created (new codes) and changed (existing codes, field by field).  ``confirm`` plans the
same bytes again inside the write transaction and writes only if the plan is still clean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.catalogue import content as rules
from app.catalogue import seed, xlsx
from app.catalogue.queries import templates as queries
from app.catalogue.versions import CODE_PATTERN
from app.catalogue.xlsx_parse import Problem, parse_row, read_sheet
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _


@dataclass
class Planned:
    row: int
    code: str
    name: str
    action: str  # "create" | "change" | "same"
    content: dict[str, Any]
    department_id: int
    effective_from: date
    mandatory: bool = False
    note: str = ""
    template_id: int | None = None
    number: int = 1  # the version number the import writes
    changes: list[dict[str, Any]] = field(default_factory=list)  # {label, old, new} as text
    retired: bool = False


@dataclass
class Plan:
    problems: list[Problem] = field(default_factory=list)
    items: list[Planned] = field(default_factory=list)

    def of(self, action: str) -> list[Planned]:
        return [p for p in self.items if p.action == action]

    @property
    def creations(self) -> list[Planned]:
        return self.of("create")

    @property
    def changes(self) -> list[Planned]:
        return self.of("change")

    @property
    def unchanged(self) -> list[Planned]:
        return self.of("same")


def _content_problems(row: int, problems: dict[str, str], skip: set[str]) -> list[Problem]:
    """``content.validate`` problems (dotted field paths) as sheet columns."""
    out = []
    for key, reason in problems.items():
        head, _dot, rest = key.partition(".")
        column = xlsx.BY_KEY.get(head)
        header = column.header if column else ""
        if header in skip:
            continue  # that cell already has its own, more precise problem
        index = rest.split(".")[0]
        if head in ("materials", "steps") and index.isdigit():
            reason = _("Line %(n)s: %(reason)s", n=int(index) + 1, reason=reason)
        out.append(Problem(row, header, reason))
    return out


def _show(key: str, value: Any, departments: dict[str, dict[str, Any]]) -> str:
    """A content value as the sheet (and the preview) shows it."""
    if key in ("legal_halves", "promised_halves"):
        return rules.halves_text(value)
    cell = xlsx.cells({key: value}, departments).get(key, value)
    return "" if cell is None else str(cell)


def _plain(value: Any) -> Any:
    """Line endings do not count as a change (a sheet has only ``\\n``)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _with_samples(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """Keep the sample files of materials the sheet still lists (the sheet cannot hold them)."""
    samples = {m["name"]: m.get("sample_file_id") for m in (old or {}).get("materials", [])}
    for material in new["materials"]:
        if material.get("sample_file_id") is None and samples.get(material["name"]):
            material["sample_file_id"] = samples[material["name"]]
    return new


async def plan(scope: TenantScope, owner_id: int, data: bytes, today: date) -> Plan:
    """The dry run: problems, or what the import would do.  Writes nothing.

    Raises ``xlsx_parse.Unreadable`` for a file that is not a readable workbook.
    """
    sheet = read_sheet(data)
    result = Plan(problems=list(sheet.problems))
    if sheet.problems:
        return result
    departments = await tenancy.departments_of(scope, owner_id)
    existing = {r["code"]: r for r in await queries.templates(scope, [owner_id])}
    latest = await queries.latest_versions(scope, [r["id"] for r in existing.values()])
    seen: dict[str, int] = {}
    for row in sheet.rows:
        parsed = parse_row(row, departments)
        result.problems += parsed.problems
        code = parsed.code
        if code and code in seen:
            result.problems.append(
                Problem(
                    row.number,
                    xlsx.BY_KEY["code"].header,
                    _("Code %(code)s is also in row %(row)s.", code=code, row=seen[code]),
                )
            )
        elif code and not _code_ok(code):
            result.problems.append(
                Problem(
                    row.number, xlsx.BY_KEY["code"].header, _("4 to 32 letters, digits or dashes.")
                )
            )
        seen.setdefault(code, row.number)
        try:
            content = rules.validate(parsed.content).model_dump()
        except rules.ContentError as exc:
            skip = {p.column for p in parsed.problems}
            result.problems += _content_problems(row.number, exc.problems, skip)
            continue
        if parsed.problems or not code:
            continue
        department_id = int(departments[content["department"]]["id"])
        template = existing.get(code)
        if template is None:
            result.items.append(
                Planned(
                    row.number,
                    code,
                    content["name"],
                    "create",
                    content,
                    department_id,
                    parsed.effective_from or today,
                    note=parsed.note,
                )
            )
            continue
        current = latest.get(template["id"])
        old = _plain(current["content"]) if current else None
        content = _with_samples(content, old)
        changes = [
            {
                "label": d["label"],
                "old": _show(d["field"], d["old"], departments),
                "new": _show(d["field"], d["new"], departments),
            }
            for d in rules.diff(old, content)
        ]
        result.items.append(
            Planned(
                row.number,
                code,
                content["name"],
                "change" if changes else "same",
                content,
                department_id,
                max(today, parsed.effective_from or today),
                mandatory=parsed.mandatory,
                note=parsed.note,
                template_id=template["id"],
                number=(current["number"] if current else 0) + 1,
                changes=changes,
                retired=template["retired_at"] is not None,
            )
        )
    result.problems.sort(key=lambda p: p.row)
    return result


def _code_ok(code: str) -> bool:
    return re.match(CODE_PATTERN, code) is not None


async def confirm(
    request: Request | None, scope: TenantScope, owner_id: int, data: bytes, today: date
) -> Plan:
    """Plan ``data`` again and, if it is still clean, write it all in one transaction."""
    scope.require("catalogue.edit")
    scope.check_write(owner_id)
    revised: list[tuple[int, int]] = []
    async with db.write(scope):
        result = await plan(scope, owner_id, data, today)
        if result.problems:
            return result
        for item in result.items:
            if item.action == "create":
                template_id = await queries.insert_template(
                    scope, owner_id, item.code, item.department_id
                )
                await queries.insert_version(
                    scope,
                    owner_id,
                    template_id,
                    1,
                    item.content,
                    item.effective_from,
                    False,
                    item.note,
                    scope.user_id,
                )
                await audit.record(
                    request,
                    "catalogue.created",
                    tenant_id=owner_id,
                    object_type="item",
                    object_id=item.code,
                    name=item.name,
                    source="xlsx",
                )
            elif item.action == "change" and item.template_id is not None:
                version_id = await queries.insert_version(
                    scope,
                    owner_id,
                    item.template_id,
                    item.number,
                    item.content,
                    item.effective_from,
                    item.mandatory,
                    item.note,
                    scope.user_id,
                )
                await queries.update_template(
                    scope,
                    item.template_id,
                    current_version=item.number,
                    department=item.department_id,
                )
                await audit.record(
                    request,
                    "catalogue.revised",
                    tenant_id=owner_id,
                    object_type="item",
                    object_id=item.code,
                    version=item.number,
                    mandatory=item.mandatory,
                    effective_from=item.effective_from.isoformat(),
                    source="xlsx",
                )
                revised.append((item.template_id, version_id))
    await seed.announce(revised)
    return result
