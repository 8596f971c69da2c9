"""Routes of this area, wired into app.main (fixed words before ids in each module)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.inspections import checklist_routes, draw_routes, inspection_routes

routes: list[BaseRoute] = [
    *checklist_routes.routes,  # /checklists…
    *draw_routes.routes,  # /draws…
    *inspection_routes.routes,  # /inspections…
]
