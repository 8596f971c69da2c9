"""The power list (权力清单): numbered, dated editions of a division's catalogue and their diff.

An edition is a snapshot of the division's active templates in the versions in force on the
day it is published: code, name, type of power, legal basis, implementing body, department.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from starlette.requests import Request

from app import db
from app.accounts import audit
from app.catalogue.queries import power_list as queries
from app.catalogue.queries import templates
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

# The columns of an entry, in the order the page shows them (code identifies the entry).
FIELDS: dict[str, Any] = {
    "code": _l("Code"),
    "name": _l("Item"),
    "power_type": _l("Type of power"),
    "department": _l("Department"),
    "implementing_body": _l("Implementing body"),
    "legal_basis": _l("Legal basis"),
}


class PowerListError(Exception):
    """Publishing was refused; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def division_of(tree: Tree, tenant_id: int) -> TenantNode | None:
    """The division whose list a centre shows: itself, or its nearest division ancestor."""
    for candidate in (tenant_id, *tree.ancestors(tenant_id)):
        node = tree.nodes.get(candidate)
        if node is not None and node.kind == "division":
            return node
    return None


async def current_entries(scope: TenantScope, division_id: int, on: date) -> list[dict[str, Any]]:
    """The entries an edition published ``on`` would hold (active templates, versions in force)."""
    rows = [t for t in await templates.templates(scope, [division_id]) if t["retired_at"] is None]
    in_force = await templates.versions_in_force(scope, [t["id"] for t in rows], on)
    entries = []
    for row in rows:
        version = in_force.get(row["id"])
        if version is None:  # its first version is not in force yet
            continue
        content = version["content"]
        entries.append(
            {
                "code": row["code"],
                "name": content.get("name", ""),
                "power_type": content.get("power_type", ""),
                "department": row["department_name"] or "",
                "implementing_body": content.get("implementing_body", ""),
                "legal_basis": content.get("legal_basis", ""),
            }
        )
    return entries


async def publish(
    request: Request | None, scope: TenantScope, division: TenantNode, on: date
) -> int:
    """Publish the next edition of ``division``'s list; returns its number.

    Raises PowerListError when nothing is in force or nothing changed since the last edition.
    """
    scope.require("powerlist.publish")
    if division.kind != "division" or scope.tenant_id != division.id:
        raise NotFound()
    scope.check_write(division.id)
    entries = await current_entries(scope, division.id, on)
    if not entries:
        raise PowerListError(_("The catalogue has no item in force: there is nothing to publish."))
    try:
        async with db.write(scope):
            previous = await queries.latest(scope, division.id)
            if previous is not None and previous["entries"] == entries:
                raise PowerListError(
                    _(
                        "Nothing has changed since edition %(number)s: it was not published again.",
                        number=previous["number"],
                    )
                )
            number = (previous["number"] if previous else 0) + 1
            await queries.insert_edition(
                scope, division.id, number, on, division.name, entries, scope.user_id
            )
            await audit.record(
                request,
                "powerlist.published",
                tenant_id=division.id,
                object_type="power_list",
                object_id=number,
                items=len(entries),
            )
    except (UniqueViolationError, sqlite3.IntegrityError):
        raise PowerListError(
            _("Another edition was published at the same moment. Reload the page and check it.")
        ) from None
    return number


def compare(old: list[dict[str, Any]] | None, new: list[dict[str, Any]]) -> dict[str, Any]:
    """Per item: added, removed, and changed (with the fields that changed) since ``old``."""
    before = {e["code"]: e for e in old or []}
    after = {e["code"]: e for e in new}
    changed = []
    for entry in new:
        prev = before.get(entry["code"])
        if prev is None:
            continue
        fields = [
            {"field": f, "label": label, "old": prev.get(f, ""), "new": entry.get(f, "")}
            for f, label in FIELDS.items()
            if f != "code" and prev.get(f, "") != entry.get(f, "")
        ]
        if fields:
            changed.append({"code": entry["code"], "name": entry["name"], "fields": fields})
    added = [e for e in new if e["code"] not in before]
    removed = [e for e in old or [] if e["code"] not in after]
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "any": bool(added or removed or changed),
    }
