"""Routes of this area, wired into app.main."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
