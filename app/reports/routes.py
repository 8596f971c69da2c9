"""Every route of the monthly reports, in matching order (fixed words before ids)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.reports import (
    definition_routes,
    export_routes,
    filing_routes,
    review_routes,
    rollup_routes,
)

routes: list[BaseRoute] = [
    *definition_routes.routes,  # /report-forms…
    *export_routes.routes,  # /reports/exports…
    *rollup_routes.routes,  # /reports/rollup…
    *review_routes.routes,  # /reports/grid, /reports/{period_id}/c/{centre}…
    *filing_routes.routes,  # /reports, /reports/{period_id}
]
