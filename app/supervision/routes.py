"""The supervision view (电子监察) of a division or regiment (``supervision.view``):

``GET /t/{slug}/supervision`` (?month=yyyy-mm) — one card per centre of the subtree:
overdue and due-soon cases (drilling down to the centre's case list), on-time rate, 好评率,
未评率, open and overdue rectifications, report timeliness, latest inspection score.
``GET /t/{slug}/supervision/centres/{centre}`` — one centre (slug in the subtree, else 404):
the last six months and its red and yellow cases now.
``GET /t/{slug}/supervision/lights`` (?colour&centre&page) — every yellow and red case of
the subtree, red first, with 督办 for red ones.
``GET /t/{slug}/supervision/league`` (?month) — the centres ranked (app.metrics).
``GET|POST /t/{slug}/supervision/settings`` (``supervision.configure`` to change) — the
yellow margin N; a change answers 303 and recomputes the subtree's lights.
An htmx request gets the ``main`` block of the same URL.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.cases import deadlines
from app.supervision import services, views
from app.supervision.forms import SettingForm
from app.supervision.queries import settings as setting_queries
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.errors import Forbidden
from app.web.i18n import gettext as _
from app.web.templating import render


def _base(request: Request) -> str:
    return f"/t/{tenant_node(request).slug}/supervision"


async def dashboard(request: Request) -> Response:
    scope = tenant_scope(request, "supervision.view")
    ctx = await views.dashboard(scope, tenant_tree(request), views.month_param(request))
    return await render(
        request,
        "supervision/dashboard.html",
        {**ctx, **views.helpers(), "base": _base(request)},
        block="main",
    )


async def centre(request: Request) -> Response:
    scope = tenant_scope(request, "supervision.view")
    tree = tenant_tree(request)
    node = views.centre_in_subtree(scope, tree, str(request.path_params.get("centre", "")))
    ctx = await views.centre_page(scope, tree, node, views.month_param(request))
    return await render(
        request,
        "supervision/centre.html",
        {**ctx, **views.helpers(), "base": _base(request)},
        block="main",
    )


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1


async def lights(request: Request) -> Response:
    scope = tenant_scope(request, "supervision.view")
    params = request.query_params
    ctx = await views.lights_page(
        scope,
        tenant_tree(request),
        params.get("colour", "").strip(),
        params.get("centre", "").strip(),
        _page_number(request),
    )
    return await render(
        request,
        "supervision/lights.html",
        {**ctx, **views.helpers(), "base": _base(request)},
        block="main",
    )


async def league(request: Request) -> Response:
    scope = tenant_scope(request, "supervision.view")
    ctx = await views.league_page(scope, tenant_tree(request), views.month_param(request))
    return await render(
        request,
        "supervision/league.html",
        {**ctx, **views.helpers(), "base": _base(request)},
        block="main",
    )


async def _settings_page(
    request: Request, form: SettingForm | None = None, status_code: int = 200, error: str = ""
) -> Response:
    scope = tenant_scope(request, "supervision.view")
    node = tenant_node(request)
    tree = tenant_tree(request)
    own = await setting_queries.setting(scope, node.id)
    nearest = await setting_queries.nearest(scope, node.id)
    may_change = scope.can("supervision.configure") and node.id in scope.write_ids
    if form is None:
        data: dict[str, Any] = {
            "yellow_days": int(nearest["yellow_days"])
            if nearest
            else deadlines.DEFAULT_YELLOW_DAYS,
            "note": own["note"] if own else "",
            "lock_version": int(own["lock_version"]) if own else 0,
        }
        form = SettingForm(data=data)
    source = tree.nodes.get(int(nearest["tenant_id"])) if nearest else None
    return await render(
        request,
        "supervision/settings.html",
        {
            "form": form,
            "own": own,
            "effective": int(nearest["yellow_days"]) if nearest else deadlines.DEFAULT_YELLOW_DAYS,
            "source": source,
            "default": deadlines.DEFAULT_YELLOW_DAYS,
            "may_change": may_change,
            "saved": request.query_params.get("saved") == "1" and status_code == 200,
            "error": error,
            "base": _base(request),
        },
        status_code=status_code,
        block="main",
    )


async def settings(request: Request) -> Response:
    if request.method == "GET":
        return await _settings_page(request)
    scope = tenant_scope(request, "supervision.configure")
    node = tenant_node(request)
    if node.id not in scope.write_ids:
        raise Forbidden()
    form = await SettingForm.from_request(request)
    if not form.validate():
        return await _settings_page(request, form, 422)
    try:
        await services.save_yellow_days(
            request,
            scope,
            tenant_tree(request),
            node.id,
            int(form.yellow_days.data),
            form.note.data or "",
            form.lock_version.data,
        )
    except services.StaleSetting:
        message = _(
            "Someone changed the yellow margin meanwhile. Reload the page to see the "
            "current value, then save again."
        )
        return await _settings_page(request, form, 409, message)
    return RedirectResponse(f"{_base(request)}/settings?saved=1", status_code=303)


routes: list[BaseRoute] = [
    Route("/t/{slug}/supervision", dashboard, methods=["GET"]),
    Route("/t/{slug}/supervision/lights", lights, methods=["GET"]),
    Route("/t/{slug}/supervision/league", league, methods=["GET"]),
    Route("/t/{slug}/supervision/settings", settings, methods=["GET", "POST"]),
    Route("/t/{slug}/supervision/centres/{centre}", centre, methods=["GET"]),
]
