"""A centre's public pages (no login): service guide, printable guide, power list, hall screen.

The tenant middleware gives GET/HEAD requests here a public scope (the centre's own rows and
its ancestors' shared ones, no writes).  Pages render without creating a session, so an
anonymous visitor gets no cookie.  Publishing the power list is a POST: it goes through the
normal login and scope path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.catalogue import power_list
from app.catalogue.content import CHANNELS, FORMS, KINDS, POWER_TYPES, REQUIREMENTS
from app.catalogue.editor_forms import today
from app.catalogue.editor_routes import material_index, sample_url
from app.catalogue.flowchart import flowchart_html
from app.catalogue.queries import power_list as editions
from app.catalogue.queries import public
from app.catalogue.queries import templates as catalogue
from app.settings import settings
from app.storage.routes import file_response
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantNode, TenantScope, Tree, for_user, user_scope
from app.web import qr
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import lazy_gettext as _l
from app.web.templating import SHANGHAI, render

LABELS = {
    "kinds": KINDS,
    "channels": CHANNELS,
    "forms": FORMS,
    "requirements": REQUIREMENTS,
    "power_types": POWER_TYPES,
}
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
MAX_QUERY = 60


def _public_url(path: str) -> str:
    return settings.public_base_url + path


def _qr(url: str) -> Markup:
    return qr.qr_svg(url)


def _in_service(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adopted items still taking applications (retiring stops new intake)."""
    return [i for i in items if i["retired_at"] is None]


def _departments(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item["department_code"], item["department_name"])
    return list(seen.items())


def _matches(item: dict[str, Any], query: str, department: str) -> bool:
    if department and item["department_code"] != department:
        return False
    if not query:
        return True
    needle = query.casefold()
    content = item["content"]
    return any(
        needle in str(text).casefold()
        for text in (content.get("name", ""), item["code"], content.get("local_code", ""))
    )


async def guide(request: Request) -> Response:
    """The centre's service guide: search by name or code, filter by department."""
    scope = tenant_scope(request, "public.view")
    node = tenant_node(request)
    items = _in_service(await public.adopted_items(scope, node.id))
    query = request.query_params.get("q", "").strip()[:MAX_QUERY]
    departments = _departments(items)
    department = request.query_params.get("department", "")
    if department not in dict(departments):
        department = ""
    shown = [i for i in items if _matches(i, query, department)]
    return await render(
        request,
        "catalogue/guide.html",
        {
            "items": shown,
            "adopted": len(items),
            "q": query,
            "department": department,
            "departments": departments,
            "guide_url": _public_url(f"/t/{node.slug}/guide"),
            **LABELS,
        },
        block="results",
        needs_session=False,
    )


async def _department_names(scope: TenantScope) -> dict[str, str]:
    return {d["code"]: d["short_name"] for d in await tenancy.departments(scope)}


def _samples(tree: Tree, item: dict[str, Any]) -> dict[int, str]:
    """Material index → its sample's address on the OWNER division's guide (which serves it)."""
    owner = tree.nodes.get(item["owner_id"])
    if owner is None:
        return {}
    return {
        index: sample_url(owner.slug, item["code"], index)
        for index, material in enumerate(item["content"].get("materials", []))
        if material.get("sample_file_id") is not None
    }


def _detail(
    tree: Tree, node: TenantNode, item: dict[str, Any], dept_names: dict[str, str]
) -> dict[str, Any]:
    """An item with what its full page shows besides the content (labels, URL, QR, chart)."""
    url = _public_url(f"/t/{node.slug}/guide/{item['code']}")
    content = item["content"]
    return {
        "samples": _samples(tree, item),
        **item,
        "url": url,
        "qr": _qr(url),
        # drawn with the limit this centre promises (its own when tighter)
        "flowchart": flowchart_html({**content, "promised_halves": item["promised"]}, dept_names),
        "channel_names": [str(CHANNELS.get(c, c)) for c in content.get("channels", [])],
        "joint_names": [dept_names.get(d, d) for d in content.get("joint_departments", [])],
    }


async def guide_item(request: Request) -> Response:
    """One adopted item in full; any other code (unknown, or not adopted here) is a 404."""
    scope = tenant_scope(request, "public.view")
    node = tenant_node(request)
    item = await public.adopted_item(scope, node.id, request.path_params["code"])
    if item is None:
        raise NotFound()
    return await render(
        request,
        "catalogue/guide_item.html",
        {
            "item": _detail(tenant_tree(request), node, item, await _department_names(scope)),
            "guide_url": _public_url(f"/t/{node.slug}/guide"),
            **LABELS,
        },
        needs_session=False,
    )


async def guide_sample(request: Request) -> Response:
    """A material's sample of the item version in force, served by the item's OWNER division
    (its public scope reads its own stored files); under any other slug a 404."""
    scope = tenant_scope(request, "public.view")
    node = tenant_node(request)
    index = material_index(request)
    template = await catalogue.template_by_code(scope, request.path_params["code"])
    if template is None or template["tenant_id"] != node.id:
        raise NotFound()
    version = (await catalogue.versions_in_force(scope, [template["id"]], today())).get(
        template["id"]
    )
    materials = version["content"].get("materials", []) if version else []
    if not 0 <= index < len(materials) or materials[index].get("sample_file_id") is None:
        raise NotFound()
    file_id = int(materials[index]["sample_file_id"])
    return await file_response(request, scope, file_id, domain="catalogue")


async def guide_print(request: Request) -> Response:
    """Every adopted item in full, one after another, for printing the whole guide."""
    scope = tenant_scope(request, "public.view")
    node = tenant_node(request)
    items = _in_service(await public.adopted_items(scope, node.id))
    row = await tenancy.tenant(scope, node.id)
    dept_names = await _department_names(scope)
    return await render(
        request,
        "catalogue/guide_print.html",
        {
            "items": [_detail(tenant_tree(request), node, i, dept_names) for i in items],
            "row": row,
            "guide_url": _public_url(f"/t/{node.slug}/guide"),
            "guide_qr": _qr(_public_url(f"/t/{node.slug}/guide")),
            "today": datetime.now(SHANGHAI).date(),
            **LABELS,
        },
        needs_session=False,
    )


# --- power list ------------------------------------------------------------------------


async def _may_publish(request: Request, node: TenantNode) -> bool:
    """Whether the signed-in visitor (if any) may publish this division's list."""
    session = request.scope.get("state", {}).get("session")
    user = session.user if session else None
    if user is None or node.kind != "division":
        return False
    mine = await accounts.my_memberships(user_scope(user.id))
    scope = for_user(tenant_tree(request), node.id, user.id, mine, user.is_platform_admin)
    return scope is not None and scope.can("powerlist.publish") and node.id in scope.write_ids


async def _edition_page(
    request: Request,
    scope: TenantScope,
    number: int | None,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    node = tenant_node(request)
    division = power_list.division_of(tenant_tree(request), node.id)
    edition = previous = None
    history: list[dict[str, Any]] = []
    if division is not None:
        if number is None:
            edition = await editions.latest(scope, division.id)
        else:
            edition = await editions.edition(scope, division.id, number)
            if edition is None:
                raise NotFound()
        if edition is not None and edition["number"] > 1:
            previous = await editions.edition(scope, division.id, edition["number"] - 1)
        history = await editions.editions(scope, division.id)
    changes = (
        power_list.compare(previous["entries"] if previous else None, edition["entries"])
        if edition is not None
        else None
    )
    published = request.query_params.get("published", "")
    return await render(
        request,
        "catalogue/power_list.html",
        {
            "division": division,
            "edition": edition,
            "previous": previous,
            "changes": changes,
            "history": history,
            "newest": bool(history)
            and edition is not None
            and history[0]["number"] == edition["number"],
            "fields": power_list.FIELDS,
            "power_types": POWER_TYPES,
            "can_publish": await _may_publish(request, node),
            "published": edition is not None and published == str(edition["number"]),
            "error": error,
            "list_url": _public_url(
                f"/t/{node.slug}/power-list" + (f"/{number}" if number is not None else "")
            ),
        },
        status_code=status_code,
        needs_session=False,
    )


async def power_list_page(request: Request) -> Response:
    """The newest edition of the centre's division's power list, with its diff."""
    return await _edition_page(request, tenant_scope(request, "public.view"), None)


async def power_list_edition(request: Request) -> Response:
    """An older (or any) edition by number."""
    number = int_param(request, "number")
    return await _edition_page(request, tenant_scope(request, "public.view"), number)


async def power_list_publish(request: Request) -> Response:
    """POST (signed in, ``powerlist.publish``, at the division): publish the next edition."""
    scope = tenant_scope(request, "powerlist.publish")
    node = tenant_node(request)
    try:
        number = await power_list.publish(request, scope, node, datetime.now(SHANGHAI).date())
    except power_list.PowerListError as exc:
        return await _edition_page(request, scope, None, error=exc.message, status_code=422)
    return RedirectResponse(f"/t/{node.slug}/power-list?published={number}", status_code=303)


# --- hall screen -----------------------------------------------------------------------


async def screen(request: Request) -> Response:
    """The hall TV: items with window and promised limit, and who holds each window's posts."""
    scope = tenant_scope(request, "public.view")
    node = tenant_node(request)
    items = _in_service(await public.adopted_items(scope, node.id))
    windows = await tenancy.windows(scope, node.id)
    posts = await accounts.window_posts(scope, node.id)
    now = datetime.now(SHANGHAI)
    return await render(
        request,
        "catalogue/screen.html",
        {
            "items": items,
            "windows": windows,
            "posts": posts,
            "now": now,
            "weekday": WEEKDAYS[now.weekday()],
            # Scroll speed: about 3 s per row; a short list stands still.
            "pace": min((len(items) + 9) // 10, 12),
            "kinds": KINDS,
        },
        block="board",
        needs_session=False,
    )


routes = [
    Route("/t/{slug}/guide", guide),
    Route("/t/{slug}/guide/print", guide_print),
    Route("/t/{slug}/guide/{code}", guide_item),
    Route("/t/{slug}/guide/{code}/sample/{index}", guide_sample),
    Route("/t/{slug}/power-list", power_list_page),
    Route("/t/{slug}/power-list/publish", power_list_publish, methods=["POST"]),
    Route("/t/{slug}/power-list/{number}", power_list_edition),
    Route("/t/{slug}/screen", screen),
]
