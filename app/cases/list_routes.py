"""GET /t/{slug}/cases: the case lists (tabs, filters, search, pages).

The filter form asks for the ``rows`` block over htmx (``HX-Target: case-rows``); every
other request gets the whole page from the same URL.  A search by ID number never keeps
the ID in the address: the URL carries its keyed hash and the box shows it masked.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.cases import identity, lists, workflow
from app.catalogue.content import KINDS
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.templating import is_htmx, render

ROWS_TARGET = "case-rows"


def _typed_an_id(request: Request) -> bool:
    q = identity.normalise(request.query_params.get("q", ""))
    return identity.id_kind_of(q) is not None


async def case_list(request: Request) -> Response:
    scope = tenant_scope(request, "case.view")
    node = tenant_node(request)
    base = f"/t/{node.slug}/cases"
    data = await lists.load(scope, tenant_tree(request), request.query_params)
    f: lists.Filters = data["f"]
    canonical = base + (f"?{f.query()}" if f.params() else "")
    partial = is_htmx(request) and request.headers.get("HX-Target") == ROWS_TARGET
    if _typed_an_id(request) and not is_htmx(request):
        # Keep the ID out of the address bar and history: the same list by its hash.
        return RedirectResponse(canonical, status_code=303)
    response = await render(
        request,
        "cases/list.html",
        {
            **data,
            "base": base,
            "rows_target": ROWS_TARGET,
            "states": workflow.STATES,
            "lights": workflow.LIGHTS,
            "kinds": KINDS,
            "dues": lists.DUE,
        },
        block="rows" if partial else "content",
    )
    if is_htmx(request):
        response.headers["HX-Push-Url"] = canonical
    return response


routes = [Route("/t/{slug}/cases", case_list, methods=["GET"])]
