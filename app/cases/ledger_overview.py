"""``GET /t/{slug}/rectifications/overview``: the division's view of every open ledger item.

For a supervisor (``ledger.view`` or ``inspection.verify``) at a division or regiment: one
card per centre of the subtree with open items — open, overdue (red), awaiting
verification, and open items by source — each linking to that centre's filtered ledger;
then the answers awaiting verification, the ones of items this user opened first
("awaiting my verification": findings of their inspections, their 督办).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.cases import ledger, ledger_evidence
from app.cases.queries import ledger_flow
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden
from app.web.templating import render


def _empty(node: Any) -> dict[str, Any]:
    return {
        "slug": node.slug,
        "name": node.name,
        "open": 0,
        "overdue": 0,
        "answered": 0,
        "by_source": {s: 0 for s in ledger.SOURCES},
    }


async def overview(request: Request) -> Response:
    scope = tenant_scope(request)
    if not (scope.can("ledger.view") or scope.can("inspection.verify")):
        raise Forbidden()
    own = tenant_node(request)
    if own.id not in scope.supervise_ids:
        raise Forbidden()  # a centre's own staff: their ledger is /rectifications
    tree = tenant_tree(request)
    nodes = {i: tree.nodes[i] for i in sorted(scope.supervise_ids & scope.read_ids)}
    now = datetime.now(UTC)
    centres: dict[int, dict[str, Any]] = {}
    for row in await ledger_flow.overview_counts(scope, list(nodes), now):
        node = nodes.get(int(row["tenant_id"]))
        if node is None:
            continue
        card = centres.setdefault(node.id, _empty(node))
        n = int(row["n"])
        card["open"] += n
        if row["overdue"]:
            card["overdue"] += n
        if row["state"] == ledger_flow.ANSWERED and row["source"] in ledger.FLOW_SOURCES:
            card["answered"] += n
        if row["source"] in card["by_source"]:
            card["by_source"][row["source"]] += n
    cards = sorted(centres.values(), key=lambda c: (-c["overdue"], -c["open"], c["slug"]))
    totals = {k: sum(c[k] for c in cards) for k in ("open", "overdue", "answered")}
    waiting = await ledger_flow.awaiting_verification(scope, list(nodes))
    openers = await ledger_flow.opened_by(scope, [w["id"] for w in waiting])
    for w in waiting:
        w["overdue"] = ledger.is_overdue(w, now)
        w["state_label"] = ledger_evidence.state_label(w)
    mine = [w for w in waiting if openers.get(w["id"]) == scope.user_id]
    others = [w for w in waiting if openers.get(w["id"]) != scope.user_id]
    return await render(
        request,
        "cases/ledger_overview.html",
        {
            "cards": cards,
            "totals": totals,
            "mine": mine,
            "others": others,
            "may_verify": scope.can("inspection.verify"),
            "sources": ledger.SOURCES,
        },
    )


routes = [Route("/t/{slug}/rectifications/overview", overview, methods=["GET"])]
