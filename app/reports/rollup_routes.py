"""The division's roll-up pages (``report.review``): totals of every field over a subtree and a
range of months, and one field's trend with its drill-down to centres and submissions.

``GET /t/{slug}/reports/rollup`` (?form&from&to&under) — per section each totalled field
(sum, or the mean for percentages), the reports counted and, for fields filled from case
records, the same figure from the records; below, centres × fields with a totals row.
``GET /t/{slug}/reports/rollup/{field}`` (same filters, ``centre`` for the drill-down) —
the trend per month (server-side SVG, :mod:`app.reports.chart`) with the numbers as a
table, the value of each centre, and one centre's months, each linking to its submission.
An htmx request gets the ``main`` block; ``under`` outside the own subtree answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.metrics import months_between
from app.reports import definition as definitions
from app.reports import periods, rollup
from app.reports.chart import Point, chart
from app.reports.definition import Definition, FieldDef
from app.reports.periods import month_input, months_before, parse_month
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.templating import render

DEFAULT_MONTHS = 12
MAX_MONTHS = 120


@dataclass
class Filters:
    """The chosen form, range and subtree, and the centres that file the form there."""

    form: dict[str, Any]
    forms: list[dict[str, Any]]
    definition: Definition
    first: int
    last: int
    own: TenantNode  # the tenant of the page
    under: TenantNode
    units: list[tuple[TenantNode, int]]  # the subtree to choose from, with depths
    centres: list[TenantNode]

    def query(self, **extra: str) -> str:
        """The filters as a query string (``under`` only when not the own tenant)."""
        params = {"form": str(self.form["id"]), "from": str(self.first), "to": str(self.last)}
        if self.under.id != self.own.id:
            params["under"] = self.under.slug
        params.update({k: v for k, v in extra.items() if v})
        return urlencode(params)


def _units(tree: Tree, scope: TenantScope, own: TenantNode) -> list[tuple[TenantNode, int]]:
    """The own tenant and its subtree (what ``under`` may name), depth first."""
    out: list[tuple[TenantNode, int]] = []

    def walk(node: TenantNode, depth: int) -> None:
        if node.id in scope.read_ids:
            out.append((node, depth))
        for child in tree.children(node.id):
            walk(child, depth + 1)

    walk(own, 0)
    return out


class NoForm(Exception):
    """The division has not defined a report form yet."""


async def filters(request: Request, scope: TenantScope) -> Filters:
    params = request.query_params
    forms = await form_queries.forms(scope)
    if not forms:
        raise NoForm()
    wanted = params.get("form", "").strip()
    if wanted:
        form = next((f for f in forms if str(f["id"]) == wanted), None)
        if form is None:
            raise NotFound()
    else:
        form = next((f for f in forms if f["retired_at"] is None), forms[0])
    versions = await form_queries.versions(scope, form["id"])
    if not versions:
        raise NotFound()
    definition = definitions.load(versions[0]["definition"])  # the newest version
    opened = [int(p["month"]) for p in await period_queries.periods(scope, form["id"])]
    last = parse_month(params.get("to"))
    first = parse_month(params.get("from"))
    if last is None:
        if first is not None:
            last = max([first, *opened[:1]])
        elif opened:
            last = opened[0]
        else:
            last = periods.previous_month(periods.month_of(periods.local_today()))
    if first is None:
        within = [m for m in opened if m <= last][:DEFAULT_MONTHS]
        first = within[-1] if within else months_before(last, DEFAULT_MONTHS - 1)
    first, last = min(first, last), max(first, last)
    first = max(first, months_before(last, MAX_MONTHS - 1))
    tree, own = tenant_tree(request), tenant_node(request)
    units = _units(tree, scope, own)
    under = own
    slug = params.get("under", "").strip()
    if slug:
        found = next((n for n, _depth in units if n.slug == slug), None)
        if found is None:
            raise NotFound()
        under = found
    below = tree.subtree(under.id)
    centres = [
        n
        for n in periods.filers(tree, form["tenant_id"], list(definition.filers))
        if n.id in below and n.id in scope.read_ids
    ]
    return Filters(form, forms, definition, first, last, own, under, units, centres)


# --- numbers as the pages write them ------------------------------------------------------


def shown(f: FieldDef, value: Decimal | None) -> str:
    """A percentage with one decimal and %, a count as a whole number, a mean with one
    decimal; "—" for nothing counted."""
    if value is None:
        return "—"
    if f.type == "percent":
        return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    if f.rollup == "mean":
        return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    if f.type == "integer" or value == value.to_integral_value():
        return str(int(value.to_integral_value(rounding=ROUND_HALF_UP)))
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize())


def difference(f: FieldDef, total: Decimal | None, cases: Decimal | None) -> str:
    """The report total minus the case-record figure, signed ("" when either is missing)."""
    if total is None or cases is None:
        return ""
    diff = Decimal(total) - Decimal(cases)
    text = shown(f, abs(diff)).removesuffix("%")
    if f.type == "percent":
        text = _("%(n)s percentage points", n=text)
    if diff > 0:
        return "+" + text
    return "−" + text if diff < 0 else "0"


def _rollup_label(f: FieldDef) -> str:
    return str(definitions.ROLLUPS.get(f.rollup or "none", ""))


def _common(filters: Filters, tenant: TenantNode) -> dict[str, Any]:
    return {
        "filters": filters,
        "form": filters.form,
        "first": filters.first,
        "last": filters.last,
        "first_input": month_input(filters.first),
        "last_input": month_input(filters.last),
        "first_label": periods.month_label(filters.first),
        "last_label": periods.month_label(filters.last),
        "under": filters.under,
        "units": filters.units,
        "centres": filters.centres,
        "query": filters.query(),
        "base": f"/t/{tenant.slug}/reports/rollup",
    }


# --- the pages ----------------------------------------------------------------------------


async def rollup_page(request: Request) -> Response:
    scope = tenant_scope(request, "report.review")
    tenant = tenant_node(request)
    try:
        chosen = await filters(request, scope)
    except NoForm:
        return await render(request, "reports/rollup_none.html", block=None)
    ids = [n.id for n in chosen.centres]
    totals = await rollup.totals(
        scope, chosen.definition, chosen.form["id"], ids, chosen.first, chosen.last
    )
    by_key = {t.field.key: t for t in totals}
    query = chosen.query()
    sections = []
    for section in chosen.definition.sections:
        rows = []
        for f in section.fields:
            item = by_key.get(f.key)
            if item is None:
                continue
            diff = difference(f, item.total, item.from_cases) if f.source else ""
            rows.append(
                {
                    "key": f.key,
                    "label": f.label,
                    "unit": f.unit,
                    "how": _rollup_label(f),
                    "total": shown(f, item.total),
                    "reports": item.reports,
                    "sourced": bool(f.source),
                    "cases": shown(f, item.from_cases) if f.source else "",
                    "diff": diff,
                    "differs": diff not in ("", "0"),
                    "url": f"/t/{tenant.slug}/reports/rollup/{f.key}?{query}",
                }
            )
        if rows:
            sections.append({"title": section.title, "rows": rows})
    matrix = [
        {"centre": n, "cells": [shown(t.field, t.by_centre.get(n.id)) for t in totals]}
        for n in chosen.centres
    ]
    ctx = _common(chosen, tenant)
    ctx.update(
        sections=sections,
        columns=[
            {"key": t.field.key, "label": t.field.label, "total": shown(t.field, t.total)}
            for t in totals
        ],
        matrix=matrix,
    )
    return await render(request, "reports/rollup.html", ctx, block="main")


async def field_page(request: Request) -> Response:
    scope = tenant_scope(request, "report.review")
    tenant = tenant_node(request)
    try:
        chosen = await filters(request, scope)
    except NoForm:
        raise NotFound() from None
    f = chosen.definition.field(str(request.path_params.get("field", "")))
    if f is None or f.rollup == "none":
        raise NotFound()
    drill: TenantNode | None = None
    slug = request.query_params.get("centre", "").strip()
    if slug:
        drill = next((n for n in chosen.centres if n.slug == slug), None)
        if drill is None:
            raise NotFound()
    form_id, first, last = chosen.form["id"], chosen.first, chosen.last
    ids = [n.id for n in chosen.centres]
    trend = await rollup.trend(scope, f, form_id, ids, first, last)
    found = await rollup.totals(scope, chosen.definition, form_id, ids, first, last, [f.key])
    item = found[0] if found else None
    months = [
        {
            "month": m,
            "label": periods.month_label(m),
            "value": shown(f, value),
            "reports": reports,
        }
        for m, value, reports in trend
    ]
    points = [Point(periods.month_label(m), value, shown(f, value)) for m, value, _r in trend]
    svg = chart(
        points,
        title=_(
            "%(field)s per month, %(first)s to %(last)s",
            field=f.label,
            first=periods.month_label(first),
            last=periods.month_label(last),
        ),
        kind="bar" if f.rollup == "sum" else "line",
        ident=f"trend-{f.key}".replace("_", "-"),
        empty=_("No report counted in this range."),
        tick=(lambda v: f"{v:g}%") if f.type == "percent" else (lambda v: f"{v:g}"),
        integer=f.type != "decimal",
    )
    query = chosen.query()
    per_centre = [
        {
            "centre": n,
            "value": shown(f, item.by_centre.get(n.id) if item else None),
            "url": f"/t/{tenant.slug}/reports/rollup/{f.key}?{chosen.query(centre=n.slug)}",
        }
        for n in chosen.centres
    ]
    drill_rows: list[dict[str, Any]] = []
    if drill is not None:
        values = await rollup.centre_months(scope, f, form_id, drill.id, first, last)
        period_ids = {
            int(p["month"]): int(p["id"])
            for p in await period_queries.periods(scope, form_id, first, last)
        }
        drill_rows = [
            {
                "month": m,
                "label": periods.month_label(m),
                "value": shown(f, values.get(m)),
                "url": (
                    f"/t/{tenant.slug}/reports/{period_ids[m]}/c/{drill.slug}"
                    if m in period_ids
                    else ""
                ),
            }
            for m in reversed(months_between(first, last))
        ]
    ctx = _common(chosen, tenant)
    ctx.update(
        field=f,
        how=_rollup_label(f),
        total=shown(f, item.total if item else None),
        reports=item.reports if item else 0,
        cases=shown(f, item.from_cases) if item and f.source else "",
        months=months,
        chart=svg,
        per_centre=per_centre,
        drill=drill,
        drill_rows=drill_rows,
        field_url=f"/t/{tenant.slug}/reports/rollup/{f.key}",
        back_url=f"/t/{tenant.slug}/reports/rollup?{query}",
    )
    return await render(request, "reports/rollup_field.html", ctx, block="main")


routes = [
    Route("/t/{slug}/reports/rollup", rollup_page, methods=["GET"]),
    Route("/t/{slug}/reports/rollup/{field}", field_page, methods=["GET"]),
]
