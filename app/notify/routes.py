"""The inbox (per person), a centre's channel settings, and the admin's channel overview."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.notify import queries, services
from app.notify.forms import KIND_LABELS, ChannelForm
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope, user_scope
from app.web.auth import current_user, int_param, platform_admin, tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.templating import render


async def inbox(request: Request) -> Response:
    user = current_user(request)
    scope = user_scope(user.id)
    before = request.query_params.get("before", "")
    items = await queries.inbox(scope, before_id=int(before) if before.isdigit() else None)
    return await render(request, "notify/inbox.html", {"items": items})


def _safe_link(link: str) -> str:
    return link if link.startswith("/") and not link.startswith("//") else "/inbox"


async def open_item(request: Request) -> Response:
    """Mark one message read and go to what it is about."""
    user = current_user(request)
    scope = user_scope(user.id)
    item = await queries.inbox_item(scope, int_param(request, "item_id"))
    if item is None:
        raise NotFound()
    await services.mark_read(scope, item["id"])
    return RedirectResponse(_safe_link(item["link"]) if item["link"] else "/inbox", 303)


async def read_all(request: Request) -> Response:
    user = current_user(request)
    await services.mark_read(user_scope(user.id))
    return RedirectResponse("/inbox", status_code=303)


async def channel(request: Request) -> Response:
    scope = tenant_scope(request, "channel.manage")
    node = tenant_node(request)
    current = await queries.channel(scope, node.id)
    form = await ChannelForm.from_request(request)
    if request.method == "GET" and current:
        form.kind.data, form.url.data, form.enabled.data = (
            current["kind"],
            current["url"],
            current["enabled"],
        )
    notice = None
    if request.method == "POST":
        if request.query_params.get("test") == "1" and current:
            sent = await services.send_test(scope, node.name)
            notice = "test" if sent else "disabled"
        elif form.validate():
            try:
                await services.save_channel(
                    request,
                    scope,
                    services.ChannelForm(form.kind.data, form.url.data, bool(form.enabled.data)),
                )
            except services.ChannelError as exc:
                form.add_error(exc.field, exc.message)
            else:
                return RedirectResponse(f"/t/{node.slug}/channel?saved=1", status_code=303)
    failed = request.method == "POST" and notice is None
    return await render(
        request,
        "notify/channel.html",
        {
            "form": form,
            "current": await queries.channel(scope, node.id),
            "recent": await queries.recent_outbound(scope, node.id),
            "kinds": KIND_LABELS,
            "notice": notice,
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=422 if failed else 200,
    )


async def admin_channels(request: Request) -> Response:
    user = platform_admin(request)
    scope = system_scope(await tenancy.tree(), reason="admin channels", user_id=user.id)
    rows = await queries.channels_with_tenants(scope)
    return await render(request, "notify/admin_channels.html", {"rows": rows, "kinds": KIND_LABELS})


routes = [
    Route("/inbox", inbox, methods=["GET"]),
    Route("/inbox/read-all", read_all, methods=["POST"]),
    Route("/inbox/{item_id}", open_item, methods=["POST"]),
    Route("/t/{slug}/channel", channel, methods=["GET", "POST"]),
    Route("/admin/channels", admin_channels, methods=["GET"]),
]
