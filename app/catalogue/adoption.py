"""A centre adopts the division's item templates: window, A/B posts, a tighter limit, notes.

Each adoption records the version it follows.  A newer version shows as available until the
manager accepts it; a mandatory one applies itself on its effective date (see
``adoption_updates``: the daily sweep, and at once when published already in force).  A
local promised limit is never looser than the version's: it is clamped when a version
tightens it, and the managers are told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.accounts import queries as accounts
from app.catalogue.content import MAX_HALVES, halves_text
from app.catalogue.queries import adoption as queries
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

log = logging.getLogger("bianmin.catalogue")
SHANGHAI = ZoneInfo("Asia/Shanghai")

audit.ACTION_LABELS.update(
    {
        "catalogue.adopted": _l("Adopted a service item"),
        "catalogue.adoption_updated": _l("Changed an adopted item's settings"),
        "catalogue.adoption_deactivated": _l("Stopped offering a service item"),
        "catalogue.version_accepted": _l("Accepted a new version of a service item"),
        "catalogue.version_applied": _l("A mandatory version of a service item applied itself"),
    }
)


class AdoptionError(Exception):
    """A rule was broken; shown next to ``field`` (or above the form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The local (Asia/Shanghai) date: versions take effect on local days."""
    return now().astimezone(SHANGHAI).date()


def parse_days(text: str) -> int | None:
    """ "2.5" (working days, half-day steps) → 5 halves; empty → None (the template's)."""
    cleaned = text.strip().replace("，", ".").replace(",", ".")
    if not cleaned:
        return None
    try:
        days = Decimal(cleaned)
    except InvalidOperation:
        raise AdoptionError(
            _("Enter a number of working days, e.g. 3 or 2.5."), "promised_days"
        ) from None
    halves = days * 2
    if not days.is_finite() or halves != halves.to_integral_value() or days < 0:
        raise AdoptionError(_("Use whole or half working days, e.g. 3 or 2.5."), "promised_days")
    if halves > MAX_HALVES:
        raise AdoptionError(_("That is longer than any time limit."), "promised_days")
    return int(halves)


def days_text(halves: int | None) -> str:
    """5 → "2.5", 6 → "3" (what the form field shows)."""
    if halves is None:
        return ""
    return f"{Decimal(halves) / 2:.1f}".removesuffix(".0")


# --- what a centre sees --------------------------------------------------------------


async def current_versions(scope: TenantScope, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Template id → the version a new adoption follows: the newest in force (else the first)."""
    in_force = await templates.versions_in_force(scope, ids, today())
    missing = [i for i in ids if i not in in_force]
    if missing:
        for template_id, rows in (await _earliest(scope, missing)).items():
            in_force[template_id] = rows
    return in_force


async def _earliest(scope: TenantScope, ids: list[int]) -> dict[int, dict[str, Any]]:
    out = {}
    for template_id in ids:
        rows = await templates.versions(scope, template_id)
        if rows:
            out[template_id] = rows[-1]
    return out


def state_of(template: dict[str, Any], row: dict[str, Any] | None, current: dict[str, Any]) -> str:
    """none | adopted | update | retired (for the list's tag)."""
    if row is not None and row["active"]:
        return "update" if current["number"] > row["version_number"] else "adopted"
    return "retired" if template["retired_at"] is not None else "none"


async def catalogue(scope: TenantScope, tenant_id: int) -> list[dict[str, Any]]:
    """The division's items grouped by department, each with its state for this centre."""
    rows = await templates.templates(scope)
    ids = [t["id"] for t in rows]
    current = await current_versions(scope, ids)
    latest = await templates.latest_versions(scope, ids)
    mine = await queries.adoptions(scope, tenant_id)
    adopted = await queries.versions_by_id(scope, [r["version_id"] for r in mine.values()])
    groups: dict[int, dict[str, Any]] = {}
    for t in rows:
        if t["id"] not in current:
            continue
        group = groups.setdefault(
            t["department_id"],
            {"code": t["department_code"], "name": t["department_name"], "entries": []},
        )
        row = mine.get(t["id"])
        found = entry(t, row, current[t["id"]], latest[t["id"]])
        found["adopted_version"] = adopted.get(row["version_id"]) if row else None
        found["limit"] = limit_of(found)
        group["entries"].append(found)
    for group in groups.values():
        group["open"] = [
            e
            for e in group["entries"]
            if e["state"] == "none" and e["template"]["retired_at"] is None
        ]
    return list(groups.values())


def entry(
    template: dict[str, Any],
    row: dict[str, Any] | None,
    current: dict[str, Any],
    latest: dict[str, Any],
) -> dict[str, Any]:
    content = current["content"]
    return {
        "template": template,
        "code": template["code"],
        "name": content["name"],
        "content": content,
        "adoption": row if row is not None and row["active"] else None,
        "row": row,
        "current": current,
        "upcoming": latest if latest["number"] > current["number"] else None,
        "state": state_of(template, row, current),
    }


async def item(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any]:
    """One item of the catalogue as this centre sees it; 404 for a code it cannot read."""
    template = await templates.template_by_code(scope, code)
    if template is None:
        raise NotFound()
    current = (await current_versions(scope, [template["id"]])).get(template["id"])
    if current is None:
        raise NotFound()
    latest = (await templates.latest_versions(scope, [template["id"]]))[template["id"]]
    row = await queries.adoption(scope, tenant_id, template["id"])
    found = entry(template, row, current, latest)
    found["adopted_version"] = (
        await templates.version(scope, row["version_id"]) if row is not None else None
    )
    found["limit"] = limit_of(found)
    return found


def limit_of(found: dict[str, Any]) -> int | None:
    """The promised limit in force at the centre: its own if tighter, else the version's."""
    row, version = found["adoption"], found.get("adopted_version")
    if row is None or version is None:
        return found["content"]["promised_halves"]
    if row["promised_halves"] is not None:
        return int(row["promised_halves"])
    return int(version["content"]["promised_halves"])


async def managers(scope: TenantScope, tenant_id: int) -> list[int]:
    return [
        m["user_id"]
        for m in await accounts.members(scope, tenant_id)
        if m["active"] and "manager" in m["roles"]
    ]


# --- adopting ------------------------------------------------------------------------


def _adopter(scope: TenantScope) -> int:
    scope.require("catalogue.adopt")
    tenant_id = scope.own()
    scope.check_write(tenant_id)
    return tenant_id


async def _default_window(scope: TenantScope, tenant_id: int, department_code: str) -> int | None:
    for window in await tenancy.windows(scope, tenant_id):
        if any(d["code"] == department_code for d in window["departments"]):
            return int(window["id"])
    return None


async def adopt(request: Request | None, scope: TenantScope, entries: list[dict[str, Any]]) -> int:
    """Adopt (or re-adopt) these catalogue entries; returns how many were adopted."""
    tenant_id = _adopter(scope)
    todo = [e for e in entries if e["adoption"] is None]
    if any(e["template"]["retired_at"] is not None for e in todo):
        raise AdoptionError(_("A retired item cannot be adopted."))
    windows: dict[str, int | None] = {}
    for e in todo:
        dept = e["template"]["department_code"]
        if dept not in windows:
            windows[dept] = await _default_window(scope, tenant_id, dept)
    moment = now()
    async with db.write(scope):
        for e in todo:
            version = e["current"]
            row = e["row"]
            if row is None:
                window_id = windows[e["template"]["department_code"]]
                await queries.insert_adoption(
                    scope, tenant_id, e["template"]["id"], version["id"], window_id
                )
            else:  # re-adopting keeps the window and notes; the limit must still be tighter
                limit = row["promised_halves"]
                if limit is not None and limit > version["content"]["promised_halves"]:
                    limit = version["content"]["promised_halves"]
                await queries.update_adoption(
                    scope,
                    row["id"],
                    moment,
                    active=True,
                    version=version["id"],
                    promised_halves=limit,
                )
            await audit.record(
                request,
                "catalogue.adopted",
                tenant_id=tenant_id,
                object_type="item",
                object_id=e["code"],
                version=version["number"],
            )
    return len(todo)


@dataclass
class Settings:
    window_id: int | None
    a_user_id: int | None
    b_user_id: int | None
    promised_days: str
    local_note: str


async def update(
    request: Request | None, scope: TenantScope, found: dict[str, Any], data: Settings
) -> None:
    """Save an adoption's window, A/B posts, tighter limit and notes (all or nothing)."""
    tenant_id = _adopter(scope)
    row = found["adoption"]
    if row is None:
        raise AdoptionError(_("Adopt the item first."))
    windows = {w["id"] for w in await tenancy.windows(scope, tenant_id)}
    if data.window_id is not None and data.window_id not in windows:
        raise AdoptionError(_("Choose one of this centre's windows."), "window")
    staff = {m["user_id"] for m in await accounts.members(scope, tenant_id) if m["active"]}
    for field, user_id in (("a_post", data.a_user_id), ("b_post", data.b_user_id)):
        if user_id is not None and user_id not in staff:
            raise AdoptionError(_("Choose an active staff member of this centre."), field)
    if (data.a_user_id or data.b_user_id) and data.window_id is None:
        raise AdoptionError(_("Choose the window whose posts these are."), "window")
    if data.a_user_id is not None and data.a_user_id == data.b_user_id:
        raise AdoptionError(_("The A post and the B post must be different people."), "b_post")
    limit = parse_days(data.promised_days)
    version = found["adopted_version"]
    fixed = version["content"]["promised_halves"]
    if limit is not None and limit > fixed:
        raise AdoptionError(
            _(
                "The promised limit may only be tightened: at most %(limit)s.",
                limit=halves_text(fixed),
            ),
            "promised_days",
        )
    async with db.write(scope):
        await queries.update_adoption(
            scope,
            row["id"],
            now(),
            window=data.window_id,
            promised_halves=limit,
            local_note=data.local_note,
        )
        changed_posts = []
        if data.window_id is not None:
            for post, user_id in (("A", data.a_user_id), ("B", data.b_user_id)):
                if user_id is not None and await accounts.set_window_post(
                    scope, tenant_id, data.window_id, post, user_id
                ):
                    changed_posts.append(post)
        await audit.record(
            request,
            "catalogue.adoption_updated",
            tenant_id=tenant_id,
            object_type="item",
            object_id=found["code"],
            window_id=data.window_id,
            promised_halves=limit,
            posts=changed_posts,
        )


async def deactivate(request: Request | None, scope: TenantScope, found: dict[str, Any]) -> None:
    """Stop offering an item; the adoption row (version, window, notes) stays as history."""
    tenant_id = _adopter(scope)
    row = found["adoption"]
    if row is None:
        return
    async with db.write(scope):
        await queries.update_adoption(scope, row["id"], now(), active=False)
        await audit.record(
            request,
            "catalogue.adoption_deactivated",
            tenant_id=tenant_id,
            object_type="item",
            object_id=found["code"],
            version=row["version_number"],
        )


@dataclass
class Moved:
    number: int
    clamped_from: int | None = None
    clamped_to: int | None = None


def clamp(row: dict[str, Any], version: dict[str, Any]) -> Moved:
    moved = Moved(version["number"])
    fixed = version["content"]["promised_halves"]
    if row["promised_halves"] is not None and row["promised_halves"] > fixed:
        moved.clamped_from, moved.clamped_to = row["promised_halves"], fixed
    return moved


async def accept(
    request: Request | None, scope: TenantScope, found: dict[str, Any]
) -> Moved | None:
    """Move the adoption to the newest version in force; ``None`` when already there."""
    tenant_id = _adopter(scope)
    row, version = found["adoption"], found["current"]
    if row is None or version["number"] <= row["version_number"]:
        return None
    moved = clamp(row, version)
    async with db.write(scope):
        values: dict[str, Any] = {"version": version["id"]}
        if moved.clamped_to is not None:
            values["promised_halves"] = moved.clamped_to
        await queries.update_adoption(scope, row["id"], now(), **values)
        await audit.record(
            request,
            "catalogue.version_accepted",
            tenant_id=tenant_id,
            object_type="item",
            object_id=found["code"],
            version=version["number"],
            old_version=row["version_number"],
            clamped_from=moved.clamped_from,
        )
    return moved


# Mandatory versions and the new-version listener (registered on import).
from app.catalogue import adoption_updates  # noqa: E402, F401
