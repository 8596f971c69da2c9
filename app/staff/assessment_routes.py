"""The monthly assessment (绩效考核).

``GET /t/{slug}/assessment?month=yyyy-mm`` (``assessment.view``): the score of each window of
the centre and, for a supervisor, of each centre of the subtree, each with its breakdown.
``GET|POST /assessment/rules``: the scheme in force (view); a division with
``assessment.define`` saves a new version (422 with the input kept when a formula is wrong,
409 when someone saved first) or starts from the recommended rules (``POST
/assessment/rules`` with ``recommended=1``).  ``GET /assessment/centres/{centre}``: a centre
of the subtree (slug; any other → 404), its windows seen from the division.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.reports.posted import texts
from app.staff import assessment, forms, scheme_service
from app.staff import scheme as schemes
from app.tenancy.scope import TenantNode
from app.web.auth import tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l
from app.web.templating import render

VARIABLE_LABELS = {**schemes.COMMON, **schemes.CENTRE_ONLY}
DONE = {"saved": _l("The assessment rules are saved as a new version.")}


def _month_text(month: int) -> str:
    return f"{month // 100}-{month % 100:02d}"


def _neighbours(month: int) -> tuple[str, str]:
    year, mon = divmod(month, 100)
    return (
        f"{year - (mon == 1)}-{(mon - 2) % 12 + 1:02d}",
        f"{year + (mon == 12)}-{mon % 12 + 1:02d}",
    )


async def _context(request: Request, node: TenantNode, with_centres: bool) -> dict[str, Any]:
    scope = tenant_scope(request, "assessment.view")
    tree = tenant_tree(request)
    month = assessment.month_of(request.query_params.get("month", ""))
    found = await assessment.scheme_in_force(scope, tree, node.id)
    version = schemes.version_for(found["versions"], month) if found else None
    windows = await assessment.window_scores(scope, node.id, month, version)
    centres: list[assessment.Scored] = []
    if with_centres:
        nodes = [tree.nodes[i] for i in sorted(tree.subtree(node.id) - {node.id})]
        nodes = [n for n in nodes if n.id in scope.read_ids]
        centres = await assessment.centre_scores(
            scope, tree, sorted(nodes, key=lambda n: n.slug), month, version
        )
    prev_m, next_m = _neighbours(month)
    return {
        "centre": node,
        "month": _month_text(month),
        "prev_month": prev_m,
        "next_month": next_m,
        "scheme": found,
        "version": version,
        "windows": windows,
        "centres": centres,
        "variable_labels": VARIABLE_LABELS,
        "base": f"/t/{tenant_node(request).slug}/assessment",
    }


async def index(request: Request) -> Response:
    scope = tenant_scope(request, "assessment.view")
    node = tenant_node(request)
    with_centres = bool(scope.supervise_ids - {node.id})
    ctx = await _context(request, node, with_centres)
    return await render(request, "staff/assessment.html", ctx, block="scores")


async def centre(request: Request) -> Response:
    scope = tenant_scope(request, "assessment.view")
    tree = tenant_tree(request)
    own = tenant_node(request)
    slug = str(request.path_params.get("centre", ""))
    node = tree.by_slug.get(slug)
    if node is None or node.id not in tree.subtree(own.id) or node.id not in scope.read_ids:
        raise NotFound()
    ctx = {**await _context(request, node, False), "back": True}
    return await render(request, "staff/assessment.html", ctx, block="scores")


def _rows_of(version: dict[str, Any] | None) -> list[dict[str, str]]:
    rows = [dict(c) for c in version["components"]] if version else []
    return rows + [dict.fromkeys(forms.SCHEME_FIELDS, "") for _i in range(forms.BLANK_ROWS)]


async def rules(request: Request) -> Response:
    scope = tenant_scope(request, "assessment.view")
    tree = tenant_tree(request)
    node = tenant_node(request)
    found = await assessment.scheme_in_force(scope, tree, node.id)
    current = found["versions"][-1] if found else None
    may_define = (
        scope.can("assessment.define") and node.kind == "division" and node.id in scope.write_ids
        and (found is None or found["owner"].id == node.id)
    )  # fmt: skip
    ctx: dict[str, Any] = {
        "scheme": found,
        "current": current,
        "may_define": may_define,
        "rows": _rows_of(current),
        "row_errors": {},
        "error": "",
        "note": "",
        "lock_version": found["lock_version"] if found else "",
        "variable_labels": VARIABLE_LABELS,
        "window_variables": sorted(schemes.WINDOW_VARIABLES),
        "centre_only": sorted(schemes.CENTRE_ONLY),
        "applies_labels": schemes.APPLIES_LABELS,
        "base": f"/t/{node.slug}/assessment",
    }
    done = request.query_params.get("done", "")
    ctx["notice"] = str(DONE[done]) if done in DONE else ""
    if request.method == "GET":
        return await render(request, "staff/assessment_rules.html", ctx)
    data = texts(await request.form())
    if data.get("recommended"):
        try:
            await scheme_service.use_recommended(request, scope, node.kind)
        except scheme_service.AlreadyDefined:
            ctx["error"] = _("Rules are already defined: edit them below.")
            return await render(request, "staff/assessment_rules.html", ctx, status_code=422)
        return RedirectResponse(f"/t/{node.slug}/assessment/rules?done=saved", status_code=303)
    rows = forms.scheme_rows(data)
    note = data.get("note", "")
    lock_text = str(data.get("lock_version", "")).strip()
    lock = (
        int(lock_text)
        if lock_text.isascii() and lock_text.isdigit() and len(lock_text) < 10
        else None
    )
    try:
        await scheme_service.save(request, scope, node.kind, rows, note, lock)
    except schemes.SchemeError as exc:
        ctx.update(
            rows=rows or _rows_of(None),
            row_errors={f"{i}:{f}": m for (i, f), m in exc.problems.items() if i is not None},
            error=" ".join(m for (i, _f), m in exc.problems.items() if i is None)
            or _("Check the marked components."),
            note=note,
        )
        return await render(request, "staff/assessment_rules.html", ctx, status_code=422)
    except scheme_service.Stale:
        ctx.update(
            rows=rows, note=note,
            error=_("Someone saved the rules while you were editing: your input is kept; "
                    "the version in force is shown above. Save again to replace it."),
        )  # fmt: skip
        return await render(request, "staff/assessment_rules.html", ctx, status_code=409)
    return RedirectResponse(f"/t/{node.slug}/assessment/rules?done=saved", status_code=303)


routes: list[BaseRoute] = [
    Route("/t/{slug}/assessment", index, methods=["GET"]),
    Route("/t/{slug}/assessment/rules", rules, methods=["GET", "POST"]),
    Route("/t/{slug}/assessment/centres/{centre}", centre, methods=["GET"]),
]
