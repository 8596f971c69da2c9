"""What the supervision pages show, built from figures.py, league.py and the queries (the
routes stay thin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from app.cases.workflow import LIGHTS, STATES
from app.metrics import report_rate
from app.reports import periods
from app.supervision import league as leagues
from app.supervision.figures import CentreFigures, centre_figures
from app.supervision.queries import lights as light_queries
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.errors import NotFound
from app.web.i18n import lazy_gettext as _l

REPORT_STATES = {
    "none": _l("Not due yet"),
    "draft": _l("Being drafted"),
    "missing": _l("Not submitted (past due)"),
    "on_time": _l("Submitted on time"),
    "late": _l("Submitted late"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
}
PAGE = 50
HISTORY_MONTHS = 6


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def month_param(request: Request, now: datetime | None = None) -> int:
    """``?month=yyyy-mm`` (default: the current local month); anything unreadable → 404."""
    text = request.query_params.get("month", "").strip()
    if not text:
        return periods.month_of(periods.local_today(now))
    month = periods.parse_month(text)
    if month is None:
        raise NotFound()
    return month


def helpers() -> dict[str, Any]:
    return {
        "pct": pct,
        "report_states": REPORT_STATES,
        "lights": LIGHTS,
        "states": STATES,
        "label_of_month": periods.month_label,
    }


@dataclass(frozen=True)
class CentreCard:
    centre: TenantNode
    figures: CentreFigures


@dataclass(frozen=True)
class Totals:
    overdue: int
    due_soon: int
    legal_exceeded: int
    open_rectifications: int
    overdue_rectifications: int
    report_rate: Decimal | None


async def dashboard(scope: TenantScope, tree: Tree, month: int) -> dict[str, Any]:
    nodes = leagues.centres(tree, scope)
    figures = await centre_figures(scope, [n.id for n in nodes], month, tree=tree)
    cards = [CentreCard(n, figures[n.id]) for n in nodes if n.id in figures]
    f = [c.figures for c in cards]
    totals = Totals(
        overdue=sum(x.overdue for x in f),
        due_soon=sum(x.due_soon for x in f),
        legal_exceeded=sum(x.legal_exceeded for x in f),
        open_rectifications=sum(x.open_rectifications for x in f),
        overdue_rectifications=sum(x.overdue_rectifications for x in f),
        report_rate=report_rate(x.report_on_time for x in f),
    )
    return {"cards": cards, "totals": totals, **_month(month)}


def _month(month: int) -> dict[str, Any]:
    return {
        "month": month,
        "month_input": periods.month_input(month),
        "month_label": periods.month_label(month),
        "prev_month": periods.month_input(periods.previous_month(month)),
        "next_month": periods.month_input(periods.next_month(month)),
    }


def centre_in_subtree(scope: TenantScope, tree: Tree, slug: str) -> TenantNode:
    """A centre of the scope's subtree by slug; anything else (another division's centre,
    an unknown slug) is a 404 like a missing record."""
    node = tree.by_slug.get(slug)
    if node is None or node.id not in scope.read_ids or node.id not in tree.subtree(scope.own()):
        raise NotFound()
    return node


async def centre_page(
    scope: TenantScope, tree: Tree, node: TenantNode, month: int
) -> dict[str, Any]:
    months = [periods.months_before(month, i) for i in range(HISTORY_MONTHS - 1, -1, -1)]
    history = []
    for m in months:  # six grouped reads, one centre each: bounded, not per case
        found = await centre_figures(scope, [node.id], m, tree=tree)
        history.append((m, found[node.id]))
    cases = await light_queries.lit_of_centre(scope, node.id)
    return {"centre": node, "history": history, "cases": cases, **_month(month)}


async def lights_page(
    scope: TenantScope, tree: Tree, colour: str, centre_slug: str, page: int
) -> dict[str, Any]:
    nodes = leagues.centres(tree, scope)
    chosen = None
    if centre_slug:
        chosen = next((n for n in nodes if n.slug == centre_slug), None)
        if chosen is None:
            raise NotFound()
    ids = [chosen.id] if chosen else [n.id for n in nodes]
    colour = colour if colour in light_queries.COLOURS else ""
    total = await light_queries.count_lit(scope, ids, colour)
    pages = max(1, (total + PAGE - 1) // PAGE)
    page = min(max(1, page), pages)
    rows = await light_queries.lit_cases(scope, ids, colour, PAGE, (page - 1) * PAGE)
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "colour": colour,
        "centre": chosen,
        "centres": nodes,
        "now": datetime.now(UTC),
    }


async def league_page(scope: TenantScope, tree: Tree, month: int) -> dict[str, Any]:
    rows = await leagues.league(scope, month, tree=tree)
    return {"rows": rows, **_month(month)}
