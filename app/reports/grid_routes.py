"""The reviewers' grid of monthly reports: centres × months with reporting and on-time rates.

``GET /t/{slug}/reports/grid`` (``report.review``), filtered by ``form``, ``from``/``to``
(yyyymm) and ``under`` (a centre of the subtree); an htmx request gets the ``grid`` block.
Above the grid, the reports whose next review is this reviewer's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.reports import grid_view, periods
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.templating import render


async def grid(request: Request) -> Response:
    scope = tenant_scope(request, "report.review")
    view = await grid_view.grid_view(
        scope, tenant_tree(request), tenant_node(request), request.query_params
    )
    return await render(
        request,
        "reports/grid.html",
        {
            "view": view,
            "month_label": periods.month_label,
            "cell_labels": grid_view.CELL_LABELS,
        },
        block="grid",
    )


routes = [Route("/t/{slug}/reports/grid", grid, methods=["GET"])]
