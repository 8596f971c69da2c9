"""Catalogue items from the manifests (``[[items]]`` in ``tenants/catalogue-*.toml``): their
cross-file checks (called by ``manifests.check``) and the upsert (called by ``apply``).

Upserted by code inside the manifest transaction, never deleted: a missing template gets
version 1; content that differs from the newest version becomes a new version, effective
today (or the file's later ``effective_from``), not mandatory; equal content changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.catalogue import content as catalogue_content
from app.catalogue import versions
from app.catalogue.queries import templates as queries
from app.tenancy import queries as tenancy
from app.tenancy.manifests import ItemSpec, Known, Loaded, items_owner
from app.tenancy.scope import TenantScope
from app.web import i18n

NOTE = "manifest"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Note = Callable[[str, str, str], None]


def check_items(
    loaded: list[Loaded],
    problems: list[str],
    by_slug: dict[str, Loaded],
    known: dict[str, Known],
    departments: dict[str, set[str]],
) -> None:
    """Items: owned by a division, valid content, known departments, each code once."""
    codes: dict[tuple[str, str], Path] = {}
    for item in loaded:
        m, path = item.manifest, item.path
        if m.division and m.tenant and m.division != m.tenant.slug:
            problems.append(f"{path}: division: must be this file's tenant")
        if not m.items:
            continue
        owner = items_owner(item)
        in_files = by_slug[owner].manifest.tenant if owner in by_slug else None
        kind = in_files.kind if in_files else (known[owner].kind if owner in known else None)
        if owner is None:
            problems.append(f"{path}: division: required for items without [tenant]")
            continue
        if kind != "division":
            problems.append(f"{path}: division: {owner!r} is not a known division")
            continue
        visible = departments.get(owner, set())
        before = i18n.get_locale()
        i18n.set_locale("en")  # manifest problems are reported in English
        try:
            for i, spec in enumerate(m.items):
                if (owner, spec.code) in codes:
                    problems.append(
                        f"{path}: items[{i}].code: {spec.code!r} is also in "
                        f"{codes[(owner, spec.code)]}"
                    )
                codes[(owner, spec.code)] = path
                try:
                    content = catalogue_content.validate(spec.content())
                except catalogue_content.ContentError as exc:
                    for where, reason in exc.problems.items():
                        problems.append(f"{path}: items[{i}].{where}: {reason}")
                    continue
                for key, code in [("department", content.department)] + [
                    (f"joint_departments[{j}]", c) for j, c in enumerate(content.joint_departments)
                ]:
                    if code not in visible:
                        problems.append(f"{path}: items[{i}].{key}: unknown department {code!r}")
        finally:
            i18n.set_locale(before)


async def apply_items(
    scope: TenantScope,
    owner_id: int,
    slug: str,
    specs: list[ItemSpec],
    note: Note,
    today: dt.date | None = None,
) -> list[tuple[int, int]]:
    """Upsert ``specs`` for the division ``owner_id``; returns new (template, version) ids
    of revised items, for ``announce`` after the transaction commits."""
    day = today or dt.datetime.now(SHANGHAI).date()
    departments = await tenancy.departments_of(scope, owner_id)
    existing = {r["code"]: r for r in await queries.templates(scope, [owner_id])}
    latest = await queries.latest_versions(scope, [r["id"] for r in existing.values()])
    revised: list[tuple[int, int]] = []
    for spec in specs:
        item = catalogue_content.validate(spec.content())  # checked before: raises if not
        data = item.model_dump()
        department_id = int(departments[item.department]["id"])
        label = f"{slug}/{spec.code}"
        row = existing.get(spec.code)
        if row is None:
            template_id = await queries.insert_template(scope, owner_id, spec.code, department_id)
            await queries.insert_version(
                scope, owner_id, template_id, 1, data, spec.effective_from or day, False, NOTE, None
            )
            note("item", "created", label)
            continue
        current: dict[str, Any] | None = latest.get(row["id"])
        if current is not None and current["content"] == data:
            note("item", "unchanged", label)
            continue
        number = (current["number"] if current else 0) + 1
        effective = max(day, spec.effective_from or day)
        version_id = await queries.insert_version(
            scope, owner_id, row["id"], number, data, effective, False, NOTE, None
        )
        await queries.update_template(
            scope, row["id"], current_version=number, department=department_id
        )
        revised.append((row["id"], version_id))
        note("item", "updated", f"{label} (version {number})")
    return revised


async def announce(revised: list[tuple[int, int]]) -> None:
    """After commit: tell the listeners of ``versions.on_new_version`` (adoptions)."""
    for template_id, version_id in revised:
        await versions.announce(template_id, version_id)
