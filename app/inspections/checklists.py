"""Defining checklists (the division): a new checklist, new versions of it, retiring it.

Every save whose definition differs from the newest version becomes a new version with its
effective date; an unchanged save makes none, and a saved version is never changed (an
inspection keeps the version it was started with).  Saving against a version that is no
longer the newest is refused (``VersionConflict``) with the input kept.  A retired
checklist keeps its versions but starts no new inspection.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from app import db
from app.inspections import definition as definitions
from app.inspections.definition import DefinitionError
from app.inspections.queries import checklists as queries
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
KINDS = {"centre": _l("Centre checklist"), "discipline": _l("Staff discipline (七个不准)")}

__all__ = [
    "KINDS",
    "DefinitionError",
    "VersionConflict",
    "create_checklist",
    "retire",
    "save_version",
]


class VersionConflict(Exception):
    """Someone saved a newer version since the editor was opened."""


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checked(data: Any) -> tuple[dict[str, Any], Any]:
    """The stored form of a valid definition and its maximum score (or DefinitionError)."""
    defn = definitions.validate(data)
    return definitions.dump(defn), definitions.max_score(defn)


def header_problems(code: str | None, title: str, kind: str | None) -> list[tuple[str, str]]:
    """(input name, message) for the code (None: not asked), title and kind."""
    problems = []
    if code is not None and not CODE.match(code or ""):
        problems.append(
            ("code", _("Code: lower-case letters, digits and - (2 to 32, starting with a letter)"))
        )
    if not (title or "").strip() or len(title.strip()) > 200:
        problems.append(("title", _("Title: required, at most 200 characters")))
    if kind is not None and kind not in KINDS:
        problems.append(("kind", _("Choose the kind of checklist")))
    return problems


async def create_checklist(
    scope: TenantScope,
    tenant_id: int,
    code: str,
    title: str,
    kind: str,
    data: Any,
    effective_from: date,
    *,
    change_note: str = "",
) -> int:
    """A new checklist with version 1 (inside its own write); returns its id."""
    scope.require("inspection.define")
    problems = [message for _name, message in header_problems(code, title, kind)]
    try:
        definition, total = checked(data)
    except DefinitionError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    async with db.write(scope):
        if await queries.checklist_by_code(scope, tenant_id, code):
            raise DefinitionError([_("Code: another checklist already uses %(code)s", code=code)])
        checklist_id = await queries.insert_checklist(scope, tenant_id, code, title.strip(), kind)
        await queries.insert_version(
            scope,
            tenant_id,
            checklist=checklist_id,
            number=1,
            effective_from=effective_from,
            definition=definition,
            max_score=total,
            change_note=change_note[:1000],
            created_by=scope.user_id,
        )
    return checklist_id


async def save_version(
    scope: TenantScope,
    checklist: dict[str, Any],
    data: Any,
    effective_from: date,
    *,
    expected: int,
    change_note: str = "",
    title: str | None = None,
) -> int | None:
    """Save a new version when the definition changed; returns its number (None: no change)."""
    scope.require("inspection.define")
    if title is not None:
        problems = header_problems(None, title, None)
        if problems:
            raise DefinitionError([message for _name, message in problems])
    definition, total = checked(data)
    async with db.write(scope):
        current = await queries.checklist(scope, checklist["id"])
        if current is None:
            raise VersionConflict()
        scope.check_write(current["tenant_id"])
        if current["current_version"] != expected:
            raise VersionConflict()
        newest = await queries.version_number(scope, checklist["id"], current["current_version"])
        if title is not None and title.strip() != current["title"]:
            await queries.update_checklist(
                scope, checklist["id"], current["tenant_id"], title=title.strip()
            )
        if newest is not None and canonical(newest["definition"]) == canonical(definition):
            return None
        number = int(current["current_version"]) + 1
        await queries.insert_version(
            scope,
            current["tenant_id"],
            checklist=checklist["id"],
            number=number,
            effective_from=effective_from,
            definition=definition,
            max_score=total,
            change_note=change_note[:1000],
            created_by=scope.user_id,
        )
    return number


async def retire(scope: TenantScope, checklist: dict[str, Any], retired: bool = True) -> bool:
    """Retire (no new inspections) or restore a checklist; False when nothing changed."""
    scope.require("inspection.define")
    async with db.write(scope):
        current = await queries.checklist(scope, checklist["id"])
        if current is None:
            return False
        scope.check_write(current["tenant_id"])
        if bool(current["retired_at"]) == retired:
            return False
        when = datetime.now(UTC) if retired else None
        await queries.update_checklist(
            scope, checklist["id"], current["tenant_id"], retired_at=when
        )
    return True
