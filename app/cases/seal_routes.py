"""The seal ledger (用印台账): a centre's approval seals and every use of them.

``GET /t/{slug}/seals`` lists the seals (add, retire, reactivate with ``seal.manage``) and the
ledger of uses, filtered by seal and date range (Asia/Shanghai days), paginated; the filter
works with htmx (the ``ledger`` block) and as a plain GET form.  A supervisor (``seal.view``)
may look at a centre of the subtree with ``?centre=<slug>``, read-only.
``GET /t/{slug}/seals/export.xlsx`` is the filtered ledger as a workbook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.accounts import audit
from app.cases import seal_export
from app.cases.print_routes import DOCUMENT_KINDS
from app.cases.queries import seals as queries
from app.cases.seal_forms import PAGE_SIZE, LedgerFilter, SealForm, parse_filter
from app.catalogue.xlsx_routes import xlsx_response
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import SHANGHAI, render

NOTICES = {
    "added": _l("Seal added."),
    "retired": _l("Seal retired: it can no longer be chosen for a decision."),
    "reactivated": _l("The seal is in use again."),
}


class SealError(Exception):
    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _centre(request: Request, scope: TenantScope) -> TenantNode:
    """The centre whose ledger is shown: the request's own, or ``?centre=`` of the subtree."""
    node = tenant_node(request)
    asked = request.query_params.get("centre", "").strip()
    if not asked or asked == node.slug:
        return node
    other = tenant_tree(request).by_slug.get(asked)
    if other is None or other.id not in scope.read_ids:
        raise NotFound()
    return other


def _centres(request: Request, scope: TenantScope) -> list[TenantNode]:
    """The centres a supervisor may choose (the own one first); empty for one centre."""
    node, tree = tenant_node(request), tenant_tree(request)
    readable = [tree.nodes[i] for i in scope.read_ids if i in tree.nodes and i != node.id]
    if not readable:
        return []
    return [node, *sorted(readable, key=lambda n: n.slug)]


def _may_manage(scope: TenantScope, node: TenantNode, centre: TenantNode) -> bool:
    return scope.can("seal.manage") and centre.id == node.id and node.id in scope.write_ids


async def _ledger(
    scope: TenantScope, centre: TenantNode, f: LedgerFilter
) -> tuple[list[dict[str, Any]], int]:
    if f.errors:
        return [], 0
    where: dict[str, Any] = {"seal_id": f.seal_id, "since": f.since, "until": f.until}
    rows = await queries.usages(scope, centre.id, limit=PAGE_SIZE, offset=f.offset, **where)
    return rows, await queries.usage_count(scope, centre.id, **where)


async def _page(
    request: Request,
    scope: TenantScope,
    centre: TenantNode,
    form: SealForm | None = None,
    *,
    status_code: int = 200,
) -> Response:
    node = tenant_node(request)
    seals = await queries.seals(scope, centre.id)
    f = parse_filter(request.query_params, {s["id"] for s in seals})
    f.centre = "" if centre.id == node.id else centre.slug
    rows, total = await _ledger(scope, centre, f)
    if f.errors and status_code == 200:
        status_code = 422
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return await render(
        request,
        "cases/seals.html",
        {
            "centre": centre,
            "centres": _centres(request, scope),
            "seals": seals,
            "seal_names": {s["id"]: s["name"] for s in seals},
            "manage": _may_manage(scope, node, centre),
            "form": form or SealForm(),
            "f": f,
            "rows": rows,
            "total": total,
            "pages": pages,
            "kinds": DOCUMENT_KINDS,
            "notice": str(notice) if notice else "",
        },
        block="ledger",
        status_code=status_code,
    )


async def ledger(request: Request) -> Response:
    """GET: the seals and the filtered ledger; POST (``seal.manage``): add a seal."""
    if request.method == "POST":
        return await add(request)
    scope = tenant_scope(request, "seal.view")
    return await _page(request, scope, _centre(request, scope))


async def export(request: Request) -> Response:
    """GET: the filtered ledger (every page) as .xlsx."""
    scope = tenant_scope(request, "seal.view")
    centre = _centre(request, scope)
    seals = await queries.seals(scope, centre.id)
    f = parse_filter(request.query_params, {s["id"] for s in seals})
    if f.errors:
        return await _page(request, scope, centre)
    rows = await queries.usages(
        scope,
        centre.id,
        seal_id=f.seal_id,
        since=f.since,
        until=f.until,
        limit=seal_export.MAX_ROWS,
    )
    data = seal_export.ledger_workbook(centre.name, rows)
    today = datetime.now(SHANGHAI).date().isoformat()
    return xlsx_response(data, f"seal-ledger-{centre.slug}-{today}.xlsx")


# --- managing the seals ------------------------------------------------------------------


def _manager(request: Request) -> tuple[TenantScope, TenantNode]:
    """``seal.manage`` at a centre the user works for (403 without the capability)."""
    scope = tenant_scope(request, "seal.manage")
    node = tenant_node(request)
    scope.check_write(node.id)
    return scope, node


async def add_seal(
    request: Request | None, scope: TenantScope, tenant_id: int, name: str, keeper: str
) -> int:
    """Register a seal (names are unique per centre); audited."""
    async with db.write(scope):
        if await queries.seal_named(scope, tenant_id, name) is not None:
            raise SealError(_("The centre already has a seal of this name."))
        seal_id = await queries.insert_seal(scope, tenant_id, name, keeper)
        await audit.record(
            request,
            "seal.added",
            tenant_id=tenant_id,
            object_type="seal",
            object_id=seal_id,
            name=name,
            keeper=keeper,
        )
    return seal_id


async def set_active(
    request: Request | None, scope: TenantScope, seal: dict[str, Any], active: bool
) -> None:
    """Retire or reactivate a seal; audited (nothing happens if it is already so)."""
    if bool(seal["active"]) == active:
        return
    async with db.write(scope):
        await queries.update_seal(scope, seal["id"], active=active)
        await audit.record(
            request,
            "seal.reactivated" if active else "seal.retired",
            tenant_id=seal["tenant_id"],
            object_type="seal",
            object_id=seal["id"],
            name=seal["name"],
        )


async def add(request: Request) -> Response:
    """POST name, keeper: register a seal."""
    scope, node = _manager(request)
    form = await SealForm.from_request(request)
    if form.validate():
        try:
            await add_seal(request, scope, node.id, form.name.data or "", form.keeper.data or "")
        except SealError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return RedirectResponse(f"/t/{node.slug}/seals?done=added", status_code=303)
    return await _page(request, scope, node, form, status_code=422)


async def _toggle(request: Request, active: bool) -> Response:
    scope, node = _manager(request)
    seal = await queries.seal(scope, node.id, int_param(request, "seal_id"))
    if seal is None:
        raise NotFound()
    await set_active(request, scope, seal, active)
    done = "reactivated" if active else "retired"
    return RedirectResponse(f"/t/{node.slug}/seals?done={done}", status_code=303)


async def retire(request: Request) -> Response:
    return await _toggle(request, False)


async def reactivate(request: Request) -> Response:
    return await _toggle(request, True)


routes = [
    Route("/t/{slug}/seals", ledger, methods=["GET", "POST"]),
    Route("/t/{slug}/seals/export.xlsx", export, methods=["GET"]),
    Route("/t/{slug}/seals/{seal_id:int}/retire", retire, methods=["POST"]),
    Route("/t/{slug}/seals/{seal_id:int}/reactivate", reactivate, methods=["POST"]),
]
