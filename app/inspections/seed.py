"""Checklists from the manifests (``[[checklists]]`` in ``tenants/*.toml``): their checks
(called by ``manifests.check``) and the upsert (called by ``apply``).

A missing checklist gets version 1; a definition that differs from the newest version
becomes a new version effective today (or the file's later ``effective_from``); an equal
one changes nothing.  Checklists are never deleted or retired by a manifest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from app.inspections import checklists as services
from app.inspections import definition as definitions
from app.inspections.queries import checklists as queries
from app.tenancy.manifest_checks import owner_kind
from app.tenancy.manifests import ChecklistSpec, Known, Loaded, items_owner
from app.tenancy.scope import TenantScope

SHANGHAI = ZoneInfo("Asia/Shanghai")
Note = Callable[[str, str, str], None]


def check_checklists(
    loaded: list[Loaded], problems: list[str], by_slug: dict[str, Loaded], known: dict[str, Known]
) -> None:
    """Checklists: owned by a division, a valid definition, each code once per division."""
    codes: set[tuple[str, str]] = set()
    for item in loaded:
        for i, spec in enumerate(item.manifest.checklists):
            where = f"{item.path}: checklists[{i}]"
            owner = items_owner(item)
            if owner_kind(item, by_slug, known) != "division":
                problems.append(f"{where}: checklists belong to a division (set `division`)")
            if (str(owner), spec.code) in codes:
                problems.append(f"{where}.code: {spec.code!r} appears twice")
            codes.add((str(owner), spec.code))
            try:
                definitions.validate(spec.definition())
            except definitions.DefinitionError as exc:
                problems.extend(f"{where}: {p}" for p in exc.problems)


async def apply_checklists(
    scope: TenantScope, owner_id: int, specs: list[ChecklistSpec], note: Note
) -> None:
    """Inside apply's write transaction (the services' own writes nest in it)."""
    today = dt.datetime.now(SHANGHAI).date()
    for spec in specs:
        data: dict[str, Any] = spec.definition()
        found = await queries.checklist_by_code(scope, owner_id, spec.code)
        if found is None:
            await services.create_checklist(
                scope,
                owner_id,
                spec.code,
                spec.title,
                spec.kind,
                data,
                spec.effective_from or today,
                change_note="manifest",
            )
            note("checklist", "created", spec.code)
            continue
        start = max(today, spec.effective_from) if spec.effective_from else today
        number = await services.save_version(
            scope,
            found,
            data,
            start,
            expected=found["current_version"],
            change_note="manifest",
            title=spec.title,
        )
        note("checklist", "updated" if number else "unchanged", spec.code)
