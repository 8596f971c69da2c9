"""Random draws (双随机) in the browser: the division's draws with the two draw forms, and one
draw's page (seed, pool size, result, and a "verify" that draws again from the stored seed).

Only supervisors (``inspection.conduct``) at a division reach these pages (403 without the
capability, 404 at a centre); a draw outside the division's subtree is a 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.accounts import audit
from app.inspections import draws as services
from app.inspections.queries import draws as queries
from app.tenancy.scope import TenantNode, TenantScope
from app.web.auth import int_param, tenant_node, tenant_scope, tenant_tree
from app.web.errors import NotFound
from app.web.templating import render

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _drawer(request: Request) -> tuple[TenantScope, TenantNode]:
    scope = tenant_scope(request, "inspection.conduct")  # 403 for managers and clerks
    node = tenant_node(request)
    if node.kind != "division" or node.id not in scope.supervise_ids:
        raise NotFound()
    return scope, node


def _base(node: TenantNode) -> str:
    return f"/t/{node.slug}/draws"


def _next_month(today: date) -> str:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


def _month_label(month: int | None) -> str:
    return f"{month // 100:04d}-{month % 100:02d}" if month else ""


async def _list_page(
    request: Request,
    scope: TenantScope,
    node: TenantNode,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    which: str = "",
    status_code: int = 200,
) -> Response:
    tree = tenant_tree(request)
    centres = [tree.nodes[i] for i in services.centre_candidates(tree, node.id)]
    today = _today()
    defaults = {
        "month": _next_month(today),
        "centres": "3",
        "inspectors": "2",
        "exclude_members": True,
        "seed": "",
        "centre": centres[0].slug if centres else "",
        "date_from": today.replace(day=1).isoformat() if today.day > 1 else today.isoformat(),
        "date_to": today.isoformat(),
        "cases": "5",
        "case_seed": "",
    }
    rows = await queries.draws(scope, sorted(tree.subtree(node.id)))
    return await render(
        request,
        "inspections/draws.html",
        {
            "base": _base(node),
            "rows": rows,
            "centres": centres,
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "which": which,
            "month_label": _month_label,
        },
        status_code=status_code,
    )


async def draw_list(request: Request) -> Response:
    scope, node = _drawer(request)
    if request.method == "GET":
        return await _list_page(request, scope, node)
    form = await request.form()
    kind = str(form.get("kind") or "")
    tree = tenant_tree(request)
    values: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        if kind == "centres":
            values["exclude_members"] = bool(form.get("exclude_members"))
            draw_id = await services.draw_centres(
                scope,
                tree,
                node.id,
                services.CentresAsk(
                    month=values.get("month", ""),
                    centres=values.get("centres", ""),
                    inspectors=values.get("inspectors", ""),
                    exclude_members=bool(values["exclude_members"]),
                    seed=values.get("seed", ""),
                ),
            )
        elif kind == "cases":
            draw_id = await services.draw_cases(
                scope,
                tree,
                node.id,
                services.CasesAsk(
                    centre=values.get("centre", ""),
                    date_from=values.get("date_from", ""),
                    date_to=values.get("date_to", ""),
                    cases=values.get("cases", ""),
                    seed=values.get("case_seed", ""),
                ),
            )
        else:
            raise NotFound()
    except services.DrawError as exc:
        errors = dict(exc.problems)
        if kind == "cases" and "seed" in errors:
            errors["case_seed"] = errors.pop("seed")
        if kind == "centres":
            values.setdefault("exclude_members", False)
        return await _list_page(request, scope, node, values, errors, kind, 422)
    async with db.write(scope):
        await audit.record(
            request,
            "draw.created",
            tenant_id=node.id,
            object_type="draw",
            object_id=draw_id,
            kind=kind,
        )
    return RedirectResponse(f"{_base(node)}/{draw_id}", status_code=303)


def _plan_day(month: int, today: date) -> date:
    first = date(month // 100, month % 100, 1)
    if (today.year, today.month) == (first.year, first.month):
        return today
    return first


async def draw_page(request: Request) -> Response:
    scope, node = _drawer(request)
    tree = tenant_tree(request)
    draw = await queries.draw(scope, int_param(request, "draw_id"))
    if draw is None or draw["tenant_id"] not in tree.subtree(node.id):
        raise NotFound()
    verify = request.query_params.get("verify") == "1"
    rerun = services.rerun(draw) if verify else None
    ctx: dict[str, Any] = {
        "base": _base(node),
        "draw": draw,
        "verify": verify,
        "rerun": rerun,
        "matches": rerun == draw["result"] if verify else None,
        "month": _month_label(draw["month"]),
    }
    if draw["kind"] == "centres":
        user_ids = sorted(
            {u for row in draw["result"].get("centres", []) for u in row["inspectors"]}
            | set(draw["pool"].get("inspectors", []))
        )
        names = await queries.user_names(scope, user_ids)
        on = _plan_day(draw["month"], _today()).isoformat()
        ctx["rows"] = [
            {
                "centre": tree.nodes.get(row["centre"]),
                "inspectors": [names.get(u, f"#{u}") for u in row["inspectors"]],
                "plan": (
                    f"/t/{node.slug}/inspections/new?centre={tree.nodes[row['centre']].slug}"
                    f"&draw={draw['id']}&on={on}"
                )
                if row["centre"] in tree.nodes
                else "",
            }
            for row in draw["result"].get("centres", [])
        ]
        ctx["pool_centres"] = [
            tree.nodes[i] for i in draw["pool"].get("centres", []) if i in tree.nodes
        ]
        ctx["pool_inspectors"] = [names.get(u, f"#{u}") for u in draw["pool"].get("inspectors", [])]
    else:
        centre = tree.nodes.get(draw["tenant_id"])
        ctx["centre"] = centre
        ctx["cases"] = await queries.cases_by_ids(
            scope, draw["tenant_id"], list(draw["result"].get("cases", []))
        )
        ctx["pool_size"] = len(draw["pool"].get("cases", []))
    return await render(request, "inspections/draw.html", ctx)


routes = [
    Route("/t/{slug}/draws", draw_list, methods=["GET", "POST"]),
    Route("/t/{slug}/draws/{draw_id}", draw_page),
]
