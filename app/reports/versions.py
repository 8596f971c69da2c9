"""Defining report forms (the division): a new form, and new versions of it.

Every save whose definition differs from the newest version becomes a new version with its
effective date; an unchanged save makes none.  A period keeps the version in force on its
opening day, so a change never rewrites a month already open.  Saving against a version
that is no longer the newest is refused (``VersionConflict``) with the input kept.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from app import db
from app.reports import definition as definitions
from app.reports.definition import DefinitionError
from app.reports.queries import forms as queries
from app.tenancy.scope import TenantScope
from app.web.i18n import gettext as _

CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")

__all__ = ["DefinitionError", "VersionConflict", "create_form", "save_version"]


class VersionConflict(Exception):
    """Someone saved a newer version since the editor was opened."""


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _checked(data: Any) -> dict[str, Any]:
    return definitions.validate(data).model_dump(mode="json")


async def create_form(
    scope: TenantScope,
    tenant_id: int,
    code: str,
    title: str,
    data: Any,
    effective_from: date,
    *,
    change_note: str = "",
) -> int:
    """A new form with version 1 (inside its own write); returns the form id."""
    problems = []
    if not CODE.match(code or ""):
        problems.append(
            _("Code: lower-case letters, digits and - (2 to 32, starting with a letter)")
        )
    if not (title or "").strip() or len(title) > 200:
        problems.append(_("Title: required, at most 200 characters"))
    try:
        definition = _checked(data)
    except DefinitionError as exc:
        problems.extend(exc.problems)
        definition = {}
    if problems:
        raise DefinitionError(problems)
    async with db.write(scope):
        if await queries.form_by_code(scope, tenant_id, code):
            raise DefinitionError([_("Code: another form already uses %(code)s", code=code)])
        form_id = await queries.insert_form(scope, tenant_id, code, title.strip())
        await queries.insert_version(
            scope,
            tenant_id,
            form=form_id,
            number=1,
            effective_from=effective_from,
            definition=definition,
            change_note=change_note,
            created_by=scope.user_id,
        )
    return form_id


async def save_version(
    scope: TenantScope,
    form: dict[str, Any],
    data: Any,
    effective_from: date,
    *,
    expected: int,
    change_note: str = "",
    title: str | None = None,
) -> int | None:
    """Save a new version when the definition changed; returns its number (None: no change)."""
    definition = _checked(data)
    async with db.write(scope):
        current = await queries.form(scope, form["id"])
        if current is None:
            raise VersionConflict()
        scope.check_write(current["tenant_id"])
        if current["current_version"] != expected:
            raise VersionConflict()
        newest = await queries.version_number(scope, form["id"], current["current_version"])
        if title is not None and title.strip() and title.strip() != current["title"]:
            await queries.update_form(
                scope, form["id"], current["tenant_id"], title=title.strip()[:200]
            )
        if newest is not None and canonical(newest["definition"]) == canonical(definition):
            return None
        number = int(current["current_version"]) + 1
        await queries.insert_version(
            scope,
            current["tenant_id"],
            form=form["id"],
            number=number,
            effective_from=effective_from,
            definition=definition,
            change_note=change_note,
            created_by=scope.user_id,
        )
    return number
