"""A centre's items: the division's catalogue with adoption toggles, and one item's settings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import queries as accounts
from app.catalogue import adoption
from app.catalogue.adoption import AdoptionError, Moved
from app.catalogue.adoption_diff import changes as diff_rows
from app.catalogue.adoption_forms import AdoptionForm, as_int
from app.catalogue.content import KINDS, halves_text
from app.catalogue.queries import adoption as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope
from app.web.auth import tenant_node, tenant_scope
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import ngettext
from app.web.templating import is_htmx, render


def _code(request: Request) -> str:
    code = str(request.path_params.get("code", ""))
    if not code or len(code) > 32:
        raise NotFound()
    return code


async def items(request: Request) -> Response:
    """GET: the catalogue by department (``?dept=`` shows one); POST ``department``: adopt
    all of that department's items not adopted yet."""
    scope = tenant_scope(request)
    node = tenant_node(request)
    dept = request.query_params.get("dept", "")
    notice = error = None
    status = 200
    if request.method == "POST":
        scope.require("catalogue.adopt")
        dept = str((await request.form()).get("department", ""))
        groups = await adoption.catalogue(scope, node.id)
        group = next((g for g in groups if g["code"] == dept), None)
        if group is None:
            raise NotFound()
        try:
            count = await adoption.adopt(request, scope, group["open"])
        except AdoptionError as exc:
            error, status = exc.message, 422
        else:
            notice = ngettext(
                "Adopted %(num)d item of %(dept)s.",
                "Adopted %(num)d items of %(dept)s.",
                count,
                dept=group["name"],
            )
    groups = await adoption.catalogue(scope, node.id)
    every = [e for g in groups for e in g["entries"]]
    shown = [g for g in groups if g["code"] == dept] or groups
    response = await render(
        request,
        "catalogue/adopt_items.html",
        {
            "kinds": KINDS,
            "groups": groups,
            "shown": shown,
            "dept": dept if len(shown) == 1 and len(groups) > 1 else "",
            "adopted": sum(1 for e in every if e["adoption"]),
            "updates": sum(1 for e in every if e["state"] == "update"),
            "total": len(every),
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )
    if request.method == "POST":
        response.headers["HX-Push-Url"] = f"/t/{node.slug}/items?dept={dept}"
    return response


async def _departments(scope: TenantScope) -> dict[str, str]:
    return {d["code"]: d["short_name"] for d in await tenancy.departments(scope)}


async def _changes(scope: TenantScope, found: dict[str, Any]) -> list[dict[str, Any]]:
    old = found["adopted_version"]
    if found["state"] != "update" or old is None:
        return []
    return diff_rows(old["content"], found["current"]["content"], await _departments(scope))


async def _item_page(
    request: Request,
    scope: TenantScope,
    found: dict[str, Any],
    form: AdoptionForm | None = None,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    node = tenant_node(request)
    windows = await tenancy.windows(scope, node.id)
    staff = await accounts.members(scope, node.id)
    holders = await queries.post_holders(scope, node.id)
    row = found["adoption"]
    if form is None:
        form = AdoptionForm()
        form.set_choices(windows, staff, found["template"]["department_code"])
        asked = request.query_params.get("window")
        if asked is not None:  # the window select changed (htmx): that window's posts
            window_id = int(asked) if asked.isdigit() else None
        else:
            window_id = row["window_id"] if row else None
        if window_id not in {w["id"] for w in windows}:
            window_id = None
        posts = holders.get(window_id, {}) if window_id else {}
        form.window.data = str(window_id or "")
        form.posts_for.data = form.window.data
        form.a_post.data = str(posts.get("A", ""))
        form.b_post.data = str(posts.get("B", ""))
        if row is not None:
            form.promised_days.data = adoption.days_text(row["promised_halves"])
            form.local_note.data = row["local_note"]
    names = {m["user_id"]: m["display_name"] for m in staff}
    window_posts = {
        post: names.get(uid, "—")
        for post, uid in holders.get(row["window_id"] if row else 0, {}).items()
    }
    response = await render(
        request,
        "catalogue/adopt_item.html",
        {
            "kinds": KINDS,
            "e": found,
            "form": form,
            "window_posts": window_posts,
            "changes": await _changes(scope, found),
            "notice": notice,
            "error": error,
        },
        status_code=status,
    )
    if request.method == "POST":
        response.headers["HX-Push-Url"] = f"/t/{node.slug}/items/{found['code']}"
    return response


async def item(request: Request) -> Response:
    """One item: its state here, the new version's changes, and the settings form."""
    scope = tenant_scope(request)
    node = tenant_node(request)
    found = await adoption.item(scope, node.id, _code(request))
    if request.method == "GET":
        return await _item_page(request, scope, found)
    scope.require("catalogue.adopt")
    form = await AdoptionForm.from_request(request)
    form.set_choices(
        await tenancy.windows(scope, node.id),
        await accounts.members(scope, node.id),
        found["template"]["department_code"],
    )
    posts_given = bool(form.a_post.data or form.b_post.data)
    if posts_given and form.window.data and form.window.data != form.posts_for.data:
        # The window changed without its posts being shown (no JavaScript): show them now
        # rather than give the old window's A and B posts to the new one.
        holders = (await queries.post_holders(scope, node.id)).get(
            as_int(form.window.data) or 0, {}
        )
        form.a_post.data = str(holders.get("A", ""))
        form.b_post.data = str(holders.get("B", ""))
        form.posts_for.data = form.window.data
        form.validate()
        form.add_error("a_post", _("The window changed: check its A and B posts, then save."))
    elif form.validate():
        try:
            await adoption.update(request, scope, found, form.settings())
        except AdoptionError as exc:
            if exc.field:
                form.add_error(exc.field, exc.message)
            else:
                return await _item_page(request, scope, found, form, status=422, error=exc.message)
        else:
            found = await adoption.item(scope, node.id, found["code"])
            return await _item_page(request, scope, found, notice=_("Saved."))
    return await _item_page(request, scope, found, form, status=422)


def _moved_notice(moved: Moved | None) -> str:
    if moved is None:
        return _("This item already follows the newest version in force.")
    text = _("The item now follows version %(number)d.", number=moved.number)
    if moved.clamped_to is not None:
        text += " " + _(
            "Your promised limit was shortened from %(old)s to %(new)s to fit the new version.",
            old=halves_text(moved.clamped_from),
            new=halves_text(moved.clamped_to),
        )
    return text


async def action(request: Request, name: str) -> Response:
    """Adopt / deactivate (list toggles and item page) and accept a new version."""
    scope = tenant_scope(request, "catalogue.adopt")
    node = tenant_node(request)
    found = await adoption.item(scope, node.id, _code(request))
    back = str((await request.form()).get("back", ""))
    error = notice = None
    try:
        if name == "adopt":
            await adoption.adopt(request, scope, [found])
        elif name == "deactivate":
            await adoption.deactivate(request, scope, found)
        else:
            notice = _moved_notice(await adoption.accept(request, scope, found))
    except AdoptionError as exc:
        error = exc.message
    found = await adoption.item(scope, node.id, found["code"])
    if back == "list":
        if is_htmx(request):
            found["error"] = error
            return await render(
                request,
                "catalogue/adopt_row.html",
                {"e": found, "kinds": KINDS},
                block=None,
                status_code=422 if error else 200,
            )
        if error is None:
            dept = found["template"]["department_code"]
            return RedirectResponse(
                f"/t/{node.slug}/items?dept={dept}#item-{found['code']}", status_code=303
            )
    return await _item_page(
        request, scope, found, status=422 if error else 200, notice=notice, error=error
    )


async def changes(request: Request) -> Response:
    """The changes from the adopted version to the newest (inline via htmx, or a page)."""
    scope = tenant_scope(request)
    node = tenant_node(request)
    found = await adoption.item(scope, node.id, _code(request))
    return await render(
        request,
        "catalogue/adopt_changes.html",
        {"e": found, "kinds": KINDS, "changes": await _changes(scope, found)},
        block="changes",
    )


def _action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return await action(request, name)

    endpoint.__name__ = f"item_{name}"
    return endpoint


routes = [
    Route("/t/{slug}/items", items, methods=["GET", "POST"]),
    Route("/t/{slug}/items/{code}", item, methods=["GET", "POST"]),
    Route("/t/{slug}/items/{code}/changes", changes, methods=["GET"]),
    *(
        Route(f"/t/{{slug}}/items/{{code}}/{name}", _action(name), methods=["POST"])
        for name in ("adopt", "deactivate", "accept")
    ),
]
