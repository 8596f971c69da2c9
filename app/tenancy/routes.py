"""A centre's home page, its audit log, and the platform admin's onboarding pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.accounts.services import ServiceError
from app.tenancy import queries, services
from app.tenancy.forms import KIND_LABELS, STATUS_LABELS, StatusForm, TenantForm
from app.tenancy.scope import Tree
from app.web.auth import int_param, platform_admin, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.templating import render


async def home(request: Request) -> Response:
    scope = tenant_scope(request)
    node, tree = tenant_node(request), tenant_tree(request)
    row = await queries.tenant(scope, node.id)
    if row is None:
        raise NotFound()
    parent = tree.nodes.get(node.parent_id) if node.parent_id else None
    windows = await queries.windows(scope, node.id)
    posts = await accounts.window_posts(scope, node.id)
    return await render(
        request,
        "tenancy/home.html",
        {
            "row": row,
            "parent": parent,
            "parent_link": parent is not None and parent.id in scope.read_ids,
            "children": tree.children(node.id),
            "child_links": scope.can("subtree.view"),
            "windows": windows,
            "posts": posts,
            "kinds": KIND_LABELS,
            "statuses": STATUS_LABELS,
        },
    )


async def audit_log(request: Request) -> Response:
    scope = tenant_scope(request, "audit.view")
    before = request.query_params.get("before")
    entries = await accounts.audit_entries(
        scope, scope.own(), limit=50, before_id=int(before) if before and before.isdigit() else None
    )
    return await render(request, "tenancy/audit.html", {"entries": entries}, block="content")


# --- platform admin -------------------------------------------------------------------


def _rows(tree: Tree) -> list[tuple[int, object]]:
    """Depth-first (depth, node) pairs for the tree list."""
    out: list[tuple[int, object]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for node in sorted(
            (n for n in tree.nodes.values() if n.parent_id == parent_id), key=lambda n: n.slug
        ):
            out.append((depth, node))
            walk(node.id, depth + 1)

    walk(None, 0)
    return out


def _tenant_form_choices(form: TenantForm, tree: Tree) -> None:
    form.parent_id.choices = [
        (n.id, f"{n.name}（{n.slug}）")
        for n in sorted(tree.nodes.values(), key=lambda n: n.id)
        if n.kind in ("division", "regiment")
    ]


async def admin_tenants(request: Request) -> Response:
    platform_admin(request)
    tree = await queries.tree()
    form = await TenantForm.from_request(request)
    _tenant_form_choices(form, tree)
    done = None
    if request.method == "POST" and form.validate():
        try:
            done = await services.onboard(
                request,
                tree,
                services.Onboarding(
                    parent_id=form.parent_id.data,
                    kind=form.kind.data,
                    slug=form.slug.data,
                    name=form.name.data,
                    status=form.status.data,
                    manager_username=form.manager_username.data,
                    manager_name=form.manager_name.data,
                ),
            )
        except ServiceError as exc:
            form.add_error(exc.field or "slug", exc.message)
        else:
            tree = await queries.tree()
            form = TenantForm()
            _tenant_form_choices(form, tree)
    failed = request.method == "POST" and done is None
    return await render(
        request,
        "admin/tenants.html",
        {
            "rows": _rows(tree),
            "form": form,
            "done": done,
            "kinds": KIND_LABELS,
            "statuses": STATUS_LABELS,
            "status_form": StatusForm(),
        },
        status_code=422 if failed else 200,
    )


async def admin_tenant_status(request: Request) -> Response:
    platform_admin(request)
    tenant_id = int_param(request, "tenant_id")
    tree = await queries.tree()
    if tenant_id not in tree.nodes:
        raise NotFound()
    form = await StatusForm.from_request(request)
    if form.validate():
        await services.set_status(request, tree, tenant_id, form.status.data)
    return RedirectResponse("/admin/tenants", status_code=303)


async def admin_audit(request: Request) -> Response:
    platform_admin(request)
    tree = await queries.tree()
    scope = services.admin_scope(tree, request)
    entries = await accounts.audit_entries(scope, None, limit=100)
    return await render(request, "admin/audit.html", {"entries": entries})


routes = [
    Route("/t/{slug}/", home, methods=["GET"]),
    Route("/t/{slug}/audit", audit_log, methods=["GET"]),
    Route("/admin/tenants", admin_tenants, methods=["GET", "POST"]),
    Route("/admin/tenants/{tenant_id}/status", admin_tenant_status, methods=["POST"]),
    Route("/admin/audit", admin_audit, methods=["GET"]),
]
