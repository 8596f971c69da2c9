"""Shared helpers for report tests: the seed form, opening periods, a filled report."""

from __future__ import annotations

from typing import Any

from app import db
from app.reports import filing, periods
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, system_scope
from tests.cases.helpers import actor_of, run, scope_of

__all__ = ["FORM", "actor_of", "filled", "notes", "open_period", "run", "scope_of", "seed_form"]

FORM = "monthly-centre"


async def seed_form() -> dict[str, Any]:
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: report form")
    form = await form_queries.form_by_code(system, tree.by_slug["d4"].id, FORM)
    assert form is not None
    return form


async def open_period(month: int, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """The period of ``month`` of the seed form (opened when missing)."""
    form = form or await seed_form()
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: open period")
    async with db.write(system):
        await periods.open_period(system, form, month)
    found = await period_queries.period_for(system, form["id"], month)
    assert found is not None
    return found


def filled(report: filing.Filing, **overrides: str) -> dict[str, str]:
    """Valid values for every field of the seed form: the pre-filled figures, plausible
    numbers elsewhere, then ``overrides``."""
    values = dict(report.values)
    for f in report.definition.fields():
        if values.get(f.key):
            continue
        if f.type == "yesno":
            values[f.key] = "yes"
        elif f.type == "choice":
            values[f.key] = f.choices[0]
        elif f.type == "text":
            values[f.key] = ""
        elif f.key == "open_days":
            values[f.key] = "21"
        elif f.key in ("windows", "staff", "ab_posts"):
            values[f.key] = "3"
        else:
            values[f.key] = "0"
    values.update(overrides)
    return values


def notes(report: filing.Filing, **extra: str) -> dict[str, str]:
    """A correction note for every pre-filled field (what a test types may differ from the
    case records other tests left behind, e.g. cases carried over), plus ``extra``."""
    return {**{f.key: "按台账填报" for f in report.definition.fields() if f.source}, **extra}


async def manager_scope(slug: str) -> TenantScope:
    return await scope_of(f"{slug}-manager", slug)
