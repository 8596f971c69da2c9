"""Routes of this area, wired into app.main: work logs (工作日志) and assessment (绩效考核)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.staff import assessment_routes, worklog_routes

routes: list[BaseRoute] = [*worklog_routes.routes, *assessment_routes.routes]
