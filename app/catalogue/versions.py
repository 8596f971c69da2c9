"""Creating, revising and retiring item templates: every change is a new version."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.catalogue.content import ItemContent
from app.catalogue.queries import templates as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _

CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z-]{3,31}$"


class CatalogueError(Exception):
    """A rule was broken; shown next to ``field`` in the form."""

    def __init__(self, message: str, field: str = "code") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


async def _department_ids(scope: TenantScope, owner_id: int, content: ItemContent) -> int:
    """Check the content's department codes against the division's list; the main one's id."""
    known = await tenancy.departments_of(scope, owner_id)
    if content.department not in known:
        raise CatalogueError(_("Choose a department from the division's list."), "department")
    for code in content.joint_departments:
        if code not in known:
            raise CatalogueError(_("Unknown department %(code)s.", code=code), "joint_departments")
    return int(known[content.department]["id"])


def _owner(scope: TenantScope) -> int:
    scope.require("catalogue.edit")
    return scope.own()


async def create(
    request: Request | None,
    scope: TenantScope,
    code: str,
    content: ItemContent,
    effective_from: date,
    note: str = "",
) -> int:
    """A new template with its version 1; returns the template id."""
    owner = _owner(scope)
    department_id = await _department_ids(scope, owner, content)
    user_id = scope.user_id
    async with db.write(scope):
        if await queries.template_by_code(scope, code) is not None:
            raise CatalogueError(_("An item with this code already exists."), "code")
        template_id = await queries.insert_template(scope, owner, code, department_id)
        await queries.insert_version(
            scope, owner, template_id, 1, content.model_dump(), effective_from, False, note, user_id
        )
        await audit.record(
            request,
            "catalogue.created",
            tenant_id=owner,
            object_type="item",
            object_id=code,
            name=content.name,
        )
    return template_id


async def revise(
    request: Request | None,
    scope: TenantScope,
    template_id: int,
    content: ItemContent,
    effective_from: date,
    mandatory: bool,
    note: str = "",
) -> int | None:
    """A new version (``None`` when nothing changed); returns the version id."""
    owner = _owner(scope)
    row = await queries.template(scope, template_id)
    if row is None or row["tenant_id"] != owner:
        raise NotFound()
    department_id = await _department_ids(scope, owner, content)
    latest = (await queries.latest_versions(scope, [template_id]))[template_id]
    if latest["content"] == content.model_dump():
        return None
    number = latest["number"] + 1
    async with db.write(scope):
        version_id = await queries.insert_version(
            scope,
            owner,
            template_id,
            number,
            content.model_dump(),
            effective_from,
            mandatory,
            note,
            scope.user_id,
        )
        await queries.update_template(
            scope, template_id, current_version=number, department=department_id
        )
        await audit.record(
            request,
            "catalogue.revised",
            tenant_id=owner,
            object_type="item",
            object_id=row["code"],
            version=number,
            mandatory=mandatory,
            effective_from=effective_from.isoformat(),
        )
    await announce(template_id, version_id)
    return version_id


async def retire(request: Request | None, scope: TenantScope, template_id: int, note: str) -> None:
    """Stop new intake of an item; adoptions and existing cases keep their versions."""
    owner = _owner(scope)
    row = await queries.template(scope, template_id)
    if row is None or row["tenant_id"] != owner:
        raise NotFound()
    async with db.write(scope):
        await queries.set_retired(scope, template_id, datetime.now(UTC), note)
        await audit.record(
            request, "catalogue.retired", tenant_id=owner, object_type="item", object_id=row["code"]
        )


async def restore(request: Request | None, scope: TenantScope, template_id: int) -> None:
    owner = _owner(scope)
    row = await queries.template(scope, template_id)
    if row is None or row["tenant_id"] != owner:
        raise NotFound()
    async with db.write(scope):
        await queries.set_retired(scope, template_id, None, "")
        await audit.record(
            request,
            "catalogue.restored",
            tenant_id=owner,
            object_type="item",
            object_id=row["code"],
        )


# Called after a new version commits (adoption tells the centres that use the item).
_listeners: list[Any] = []


def on_new_version(listener: Any) -> Any:
    _listeners.append(listener)
    return listener


async def announce(template_id: int, version_id: int) -> None:
    """Tell the listeners about a committed new version (the editor, the seed, an import)."""
    for listener in list(_listeners):
        await listener(template_id, version_id)
