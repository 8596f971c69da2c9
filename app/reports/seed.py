"""Report forms from the manifests (``[[report_forms]]`` in ``tenants/*.toml``): their
checks (called by ``manifests.check``) and the upsert (called by ``apply``).

A missing form gets version 1; a definition that differs from the newest version becomes a
new version effective today (or the file's later ``effective_from``); an equal one changes
nothing.  Forms are never deleted by a manifest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from app.reports import definition as definitions
from app.reports import versions
from app.reports.queries import forms as queries
from app.tenancy.manifest_checks import owner_kind
from app.tenancy.manifests import Known, Loaded, ReportFormSpec, items_owner
from app.tenancy.scope import TenantScope

SHANGHAI = ZoneInfo("Asia/Shanghai")
Note = Callable[[str, str, str], None]


def check_forms(
    loaded: list[Loaded], problems: list[str], by_slug: dict[str, Loaded], known: dict[str, Known]
) -> None:
    """Forms: owned by a division, a valid definition, each code once per division."""
    codes: set[tuple[str, str]] = set()
    for item in loaded:
        for i, spec in enumerate(item.manifest.report_forms):
            where = f"{item.path}: report_forms[{i}]"
            owner = items_owner(item)
            if owner_kind(item, by_slug, known) != "division":
                problems.append(f"{where}: forms belong to a division (set `division`)")
            if (str(owner), spec.code) in codes:
                problems.append(f"{where}.code: {spec.code!r} appears twice")
            codes.add((str(owner), spec.code))
            try:
                definitions.validate(spec.definition())
            except definitions.DefinitionError as exc:
                problems.extend(f"{where}: {p}" for p in exc.problems)


async def apply_forms(
    scope: TenantScope, owner_id: int, specs: list[ReportFormSpec], note: Note
) -> None:
    today = dt.datetime.now(SHANGHAI).date()
    for spec in specs:
        start = max(today, spec.effective_from) if spec.effective_from else today
        form = await queries.form_by_code(scope, owner_id, spec.code)
        data: dict[str, Any] = spec.definition()
        if form is None:
            await _create(scope, owner_id, spec, data, spec.effective_from or today)
            note("report form", "created", spec.code)
            continue
        number = await versions.save_version(
            scope,
            form,
            data,
            start,
            expected=form["current_version"],
            change_note="manifest",
            title=spec.title,
        )
        note("report form", "updated" if number else "unchanged", spec.code)


async def _create(
    scope: TenantScope, owner_id: int, spec: ReportFormSpec, data: dict[str, Any], day: dt.date
) -> None:
    await versions.create_form(
        scope, owner_id, spec.code, spec.title, data, day, change_note="manifest"
    )
