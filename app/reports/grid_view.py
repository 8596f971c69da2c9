"""The reviewers' grid: its filters (form, month range, subtree) read from the query string,
the centres × months grid (:func:`app.reports.rollup.grid`) and the reports whose next review
is this reviewer's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.reports import definition as definitions
from app.reports import periods, review, rollup
from app.reports.definition import Definition
from app.reports.periods import parse_month
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import rollup as rollup_queries
from app.tenancy.scope import TenantNode, TenantScope, Tree
from app.web.i18n import lazy_gettext as _l

DEFAULT_MONTHS = 12
MAX_MONTHS = 36

CELL_LABELS = {
    "none": _l("Not started"),
    "draft": _l("Draft"),
    "on_time": _l("Submitted on time"),
    "late": _l("Submitted late"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
}


@dataclass(frozen=True)
class Waiting:
    centre: TenantNode
    month: int
    period_id: int
    state: str
    endorsed: bool


@dataclass
class GridView:
    forms: list[dict[str, Any]]
    form: dict[str, Any] | None = None
    months: list[int] = field(default_factory=list)  # opened months, newest first
    first: int | None = None
    last: int | None = None
    under: TenantNode | None = None
    under_options: list[tuple[TenantNode, int]] = field(default_factory=list)  # (node, depth)
    nested: set[int] = field(default_factory=set)  # centres shown below their parent's row
    grid: rollup.Grid | None = None
    period_ids: dict[int, int] = field(default_factory=dict)  # month → period id
    waiting: list[Waiting] = field(default_factory=list)


def _depth_first(tree: Tree, root: TenantNode, scope: TenantScope) -> list[tuple[TenantNode, int]]:
    out: list[tuple[TenantNode, int]] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node.id in scope.read_ids:
            out.append((node, depth))
        stack.extend((child, depth + 1) for child in reversed(tree.children(node.id)))
    return out


async def _definition(scope: TenantScope, form: dict[str, Any]) -> Definition | None:
    version = await form_queries.version_number(scope, form["id"], form["current_version"])
    return definitions.load(version["definition"]) if version else None


def _pick_form(forms: list[dict[str, Any]], own: TenantNode, wanted: str) -> dict[str, Any] | None:
    for form in forms:
        if str(form["id"]) == wanted:
            return form
    owned = [f for f in forms if f["tenant_id"] == own.id]
    candidates = owned or forms
    return candidates[0] if candidates else None


async def grid_view(
    scope: TenantScope, tree: Tree, own: TenantNode, params: Mapping[str, str]
) -> GridView:
    """The grid page's filters (bad values fall back to the defaults) and its contents."""
    view = GridView(forms=await form_queries.forms(scope, include_retired=False))
    view.under_options = _depth_first(tree, own, scope)
    under = tree.by_slug.get(params.get("under", ""))
    view.under = under if under and any(n.id == under.id for n, _ in view.under_options) else own
    view.form = _pick_form(view.forms, own, params.get("form", ""))
    if view.form is None:
        return view
    definition = await _definition(scope, view.form)
    rows = await period_queries.periods(scope, view.form["id"])
    view.period_ids = {int(r["month"]): int(r["id"]) for r in rows}
    view.months = sorted(view.period_ids, reverse=True)
    if definition is None or not view.months:
        return view
    first, last = parse_month(params.get("from")), parse_month(params.get("to"))
    last = last if last is not None else view.months[0]
    if first is None:
        recent = [m for m in view.months if m <= last][:DEFAULT_MONTHS]
        first = recent[-1] if recent else last
    if first > last:
        first, last = last, first
    within = [m for m in view.months if first <= m <= last]
    if len(within) > MAX_MONTHS:  # keep the page bounded: the newest MAX_MONTHS
        first = within[MAX_MONTHS - 1]
    view.first, view.last = first, last
    kinds: list[str] = list(definition.filers)
    view.grid = await rollup.grid(
        scope, tree, view.form, kinds, view.under.id, view.months, first, last
    )
    order = {n.id: i for i, (n, _) in enumerate(view.under_options)}
    view.grid.centres.sort(key=lambda n: order.get(n.id, len(order)))  # the tree's order
    shown = {n.id for n in view.grid.centres}
    view.nested = {n.id for n in view.grid.centres if n.parent_id in shown}
    view.waiting = await _waiting(scope, tree, own, view.form, kinds, view.period_ids)
    return view


async def _waiting(
    scope: TenantScope,
    tree: Tree,
    own: TenantNode,
    form: dict[str, Any],
    kinds: list[str],
    period_ids: dict[int, int],
) -> list[Waiting]:
    """The reports of the whole subtree (any opened month) whose next review is this scope's."""
    if not scope.can("report.review") or not period_ids:
        return []
    centres = [
        n.id for n in periods.filers(tree, form["tenant_id"], kinds) if n.id in tree.subtree(own.id)
    ]
    out = []
    for row in await rollup_queries.waiting(scope, form["id"], centres):
        tenant_id, month = int(row["tenant_id"]), int(row["month"])
        if month not in period_ids:
            continue
        stage = review.stage(
            tree, scope, {"tenant_id": tenant_id, "status": row["status"]}, form["tenant_id"]
        )
        if stage.mine:
            state = "on_time" if row["on_time"] in (True, 1) else "late"
            endorsed = row["status"] == "endorsed"
            out.append(Waiting(tree.nodes[tenant_id], month, period_ids[month], state, endorsed))
    return sorted(out, key=lambda w: (w.month, w.centre.slug))
