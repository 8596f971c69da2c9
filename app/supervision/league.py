"""The league table (排名): the centres of a subtree ranked by the composite score of
app.metrics (:func:`app.metrics.league_score`) for one month, ties broken by slug.

:func:`league` is also read by the circulars (通报) that publish it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.metrics import league_score
from app.supervision.figures import CentreFigures, centre_figures
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope, Tree


@dataclass(frozen=True)
class LeagueRow:
    rank: int  # 1 = best; equal scores still get distinct ranks (by slug)
    centre: TenantNode
    score: Decimal
    figures: CentreFigures


def centres(tree: Tree, scope: TenantScope, under_id: int | None = None) -> list[TenantNode]:
    """The service centres (regiments and communities, not suspended) under ``under_id``
    (default: the scope's tenant) that the scope reads, by slug."""
    root = under_id if under_id is not None else scope.own()
    return sorted(
        (
            tree.nodes[t]
            for t in tree.subtree(root)
            if t in scope.read_ids
            and tree.nodes[t].kind != "division"
            and tree.nodes[t].status != "suspended"
        ),
        key=lambda n: n.slug,
    )


def score_of(f: CentreFigures) -> Decimal:
    return league_score(
        on_time_rate=f.on_time_rate,
        good_rate=f.good_rate,
        report_on_time=f.report_on_time,
        inspection_percent=f.inspection_percent,
        overdue=f.overdue,
        overdue_rectifications=f.overdue_rectifications,
    )


def rank(nodes: list[TenantNode], figures: dict[int, CentreFigures]) -> list[LeagueRow]:
    """Order by score (highest first), then slug; number the rows 1…n."""
    scored = sorted(
        ((score_of(figures[n.id]), n) for n in nodes if n.id in figures),
        key=lambda pair: (-pair[0], pair[1].slug),
    )
    return [
        LeagueRow(i, node, score, figures[node.id])
        for i, (score, node) in enumerate(scored, start=1)
    ]


async def league(
    scope: TenantScope, month: int, *, now: datetime | None = None, tree: Tree | None = None
) -> list[LeagueRow]:
    """The centres under the scope's tenant ranked for ``month`` (yyyymm); the caller
    checks the capability (supervision.view for the page, circular.issue for a circular)."""
    tree = tree or await tenancy.tree()
    nodes = centres(tree, scope)
    figures = await centre_figures(scope, [n.id for n in nodes], month, now=now, tree=tree)
    return rank(nodes, figures)
