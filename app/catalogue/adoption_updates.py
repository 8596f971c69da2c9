"""New versions from the division: centres are told, mandatory ones apply themselves.

``version_published`` listens to ``versions.on_new_version``; ``apply_mandatory`` is run by the
daily sweep (``app.catalogue.tasks``) and at once for a mandatory version already in force.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from app import db
from app.accounts import audit
from app.catalogue import adoption, versions
from app.catalogue.adoption import Moved, managers, now, today
from app.catalogue.content import halves_text
from app.catalogue.queries import adoption as queries
from app.catalogue.queries import templates
from app.notify.services import notify
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from app.web.i18n import gettext as _

log = logging.getLogger("bianmin.catalogue")


async def _system(reason: str) -> TenantScope:
    return system_scope(await tenancy.tree(), reason=reason)


async def apply_mandatory(on: date, template_id: int | None = None) -> int:
    """Move adoptions to the newest mandatory version in force on ``on`` (idempotent).

    Clamps a local promised limit above the new version's and tells the centre's managers.
    Returns how many adoptions moved.
    """
    scope = await _system("catalogue.apply_mandatory")
    tree = await tenancy.tree()
    due = await queries.mandatory_in_force(scope, on)
    if template_id is not None:
        due = {k: v for k, v in due.items() if k == template_id}
    moved_count = 0
    for tid, version in due.items():
        template = await templates.template(scope, tid)
        if template is None:
            continue
        for row in await queries.adopters(scope, tid):
            if row["version_number"] >= version["number"]:
                continue
            moved = adoption.clamp(row, version)
            async with db.write(scope):
                fresh = await queries.adoption(scope, row["tenant_id"], tid)
                if fresh is None or fresh["version_number"] >= version["number"]:
                    continue  # another run got there first
                values: dict[str, Any] = {"version": version["id"]}
                if moved.clamped_to is not None:
                    values["promised_halves"] = moved.clamped_to
                await queries.update_adoption(scope, row["id"], now(), **values)
                await audit.record(
                    None,
                    "catalogue.version_applied",
                    tenant_id=row["tenant_id"],
                    actor_name="system",
                    object_type="item",
                    object_id=template["code"],
                    version=version["number"],
                    old_version=row["version_number"],
                    clamped_from=moved.clamped_from,
                )
                await _tell_applied(
                    scope, tree.nodes[row["tenant_id"]].slug, row, template, version, moved
                )
            moved_count += 1
    return moved_count


async def _tell_applied(
    scope: TenantScope,
    slug: str,
    row: dict[str, Any],
    template: dict[str, Any],
    version: dict[str, Any],
    moved: Moved,
) -> None:
    name = version["content"]["name"]
    body = _(
        "The division made version %(number)d mandatory from %(date)s; it now applies at "
        "your centre.",
        number=version["number"],
        date=version["effective_from"].isoformat(),
    )
    if moved.clamped_to is not None:
        body += " " + _(
            "Your promised limit was shortened from %(old)s to %(new)s to fit the new version.",
            old=halves_text(moved.clamped_from),
            new=halves_text(moved.clamped_to),
        )
    await notify(
        scope,
        row["tenant_id"],
        await managers(scope, row["tenant_id"]),
        _("Version %(number)d of %(name)s now applies", number=version["number"], name=name),
        body=body,
        link=f"/t/{slug}/items/{template['code']}",
        kind="catalogue.applied",
    )


async def version_published(template_id: int, version_id: int) -> None:
    """Tell the managers of every adopting centre; apply a mandatory version already in force."""
    try:
        scope = await _system("catalogue.new_version")
        version = await templates.version(scope, version_id)
        template = await templates.template(scope, template_id)
        if version is None or template is None:
            return
        if version["mandatory"] and version["effective_from"] <= today():
            await apply_mandatory(today(), template_id)
        tree = await tenancy.tree()
        rows = [
            r
            for r in await queries.adopters(scope, template_id)
            if r["version_number"] < version["number"]
        ]
        if not rows:
            return
        name = version["content"]["name"]
        if version["mandatory"]:
            body = _(
                "It is mandatory and applies itself on %(date)s.",
                date=version["effective_from"].isoformat(),
            )
        else:
            body = _(
                "It takes effect on %(date)s; review the changes and accept it.",
                date=version["effective_from"].isoformat(),
            )
        if version["change_note"]:
            body = version["change_note"] + "\n" + body
        async with db.write(scope):
            for row in rows:
                await notify(
                    scope,
                    row["tenant_id"],
                    await managers(scope, row["tenant_id"]),
                    _("New version %(number)d of %(name)s", number=version["number"], name=name),
                    body=body,
                    link=f"/t/{tree.nodes[row['tenant_id']].slug}/items/{template['code']}",
                    kind="catalogue.new_version",
                )
    except Exception:  # the division's change has committed; the daily sweep catches up
        log.exception(
            "telling centres about version %s of template %s failed", version_id, template_id
        )


versions.on_new_version(version_published)
