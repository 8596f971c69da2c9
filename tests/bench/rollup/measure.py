"""Timing the roll-up through the app's own code paths under a real scope (a d4 supervisor,
app role, row-level security on), next to plain ``SELECT count(*)`` over the same rows.

Each operation is warmed up, then run ``runs`` times (fewer when it exceeds the time
budget, never fewer than three); the table shows min / p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.accounts import queries as accounts
from app.reports import definition as definitions
from app.reports import periods, rollup
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import rollup as rollup_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, user_scope
from tests.bench.rollup.rows import months_ending

SUPERVISOR = "d4-liuhong"


@dataclass
class Op:
    name: str
    run: Callable[[], Awaitable[Any]]
    target: bool = False  # counted against the p95 target


@dataclass
class Result:
    name: str
    times: list[float]  # milliseconds
    target: bool
    rows: str = ""

    def pct(self, p: float) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass
class Context:
    scope: TenantScope
    tree: Tree
    form: dict[str, Any]
    definition: definitions.Definition
    division_id: int
    centre_ids: list[int]
    open_months: list[int]
    last: int
    first12: int = 0
    first36: int = 0
    span12: int = 12
    span36: int = 36
    extra: dict[str, Any] = field(default_factory=dict)


async def context(last: int, months: int) -> Context:
    """The scope of the division supervisor as the tenant middleware builds it."""
    tree = await tenancy.tree()
    user = await accounts.user_by_username(SUPERVISOR)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    division = tree.by_slug["d4"].id
    scope = for_user(tree, division, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None and scope.can("report.review")
    form = await form_queries.form_by_code(scope, division, "monthly-centre")
    assert form is not None
    version = await form_queries.version_number(scope, form["id"], form["current_version"])
    assert version is not None
    spec = definitions.load(version["definition"])
    centres = periods.filers(tree, form["tenant_id"], list(spec.filers))
    found = await period_queries.periods(scope, form["id"])
    return Context(
        scope=scope,
        tree=tree,
        form=form,
        definition=spec,
        division_id=division,
        centre_ids=[c.id for c in centres if c.id in scope.read_ids],
        open_months=sorted(p["month"] for p in found),
        last=last,
        first12=months_ending(last, min(12, months))[0],
        first36=months_ending(last, min(36, months))[0],
        span12=min(12, months),
        span36=min(36, months),
    )


async def count(ctx: Context, sql: str, *args: Any) -> int:
    async with db.read(ctx.scope):
        found = await db.engine().run_querystring(QueryString(sql, *args))
    return int(found[0]["n"])


def operations(ctx: Context) -> list[Op]:
    s, form, spec, last = ctx.scope, ctx.form, ctx.definition, ctx.last
    kinds: list[str] = list(spec.filers)
    one = next(f for f in spec.fields() if f.key == "registered")

    async def grid(first: int) -> Any:
        return await rollup.grid(
            s, ctx.tree, form, kinds, ctx.division_id, ctx.open_months, first, last
        )

    async def grid_page(first: int) -> Any:
        tree = await tenancy.tree()  # what the tenant middleware and the view load
        found = await form_queries.form(s, form["id"])
        assert found is not None
        version = await form_queries.version_number(s, form["id"], found["current_version"])
        assert version is not None
        filers: list[str] = list(definitions.load(version["definition"]).filers)
        months = [p["month"] for p in await period_queries.periods(s, form["id"], first, last)]
        return await rollup.grid(s, tree, found, filers, ctx.division_id, months, first, last)

    async def totals(first: int, keys: list[str] | None = None) -> Any:
        return await rollup.totals(s, spec, form["id"], ctx.centre_ids, first, last, keys)

    f12, f36 = ctx.first12, ctx.first36
    m12, m36 = f"{ctx.span12} months", f"{ctx.span36} months"
    ops = [
        Op(f"grid {m12}", lambda: grid(f12), True),
        Op(f"grid {m36}", lambda: grid(f36), True),
        Op(f"grid page data {m12}", lambda: grid_page(f12)),
        Op(f"totals {m12}, all fields", lambda: totals(f12), True),
        Op(f"totals {m36}, all fields", lambda: totals(f36)),
        Op(f"totals {m36}, one field", lambda: totals(f36, ["registered"]), True),
        Op(
            f"trend {m36}, one field",
            lambda: rollup.trend(s, one, form["id"], ctx.centre_ids, f36, last),
        ),
        Op(
            f"case figures {m36}",
            lambda: rollup_queries.case_figures(
                s, ctx.centre_ids, f36, last, ["registered", "concluded"]
            ),
        ),
        Op(
            f"count(*) submission, grid rows {m36}",
            lambda: count(
                ctx,
                "SELECT count(*) AS n FROM submission WHERE form_id = {} AND month >= {}"
                " AND month <= {}",
                form["id"],
                f36,
                last,
            ),
        ),
        Op(
            f"count(*) report_value, totals rows {m12}",
            lambda: count(
                ctx,
                "SELECT count(*) AS n FROM report_value WHERE form_id = {} AND month >= {}"
                " AND month <= {} AND counted",
                form["id"],
                f12,
                last,
            ),
        ),
        Op(
            f"count(*) case_month_stat {m36}",
            lambda: count(
                ctx,
                "SELECT count(*) AS n FROM case_month_stat WHERE month >= {} AND month <= {}",
                f36,
                last,
            ),
        ),
        Op(
            "count(*) report_value (whole table)",
            lambda: count(ctx, "SELECT count(*) AS n FROM report_value"),
        ),
        Op(
            "count(*) service_case (whole table)",
            lambda: count(ctx, "SELECT count(*) AS n FROM service_case"),
        ),
    ]
    unique: dict[str, Op] = {}  # a short run: the "36 month" operations repeat the 12-month ones
    for op in ops:
        unique.setdefault(op.name, op)
    return list(unique.values())


async def measure(op: Op, runs: int, warmup: int, budget: float) -> Result:
    out = Result(op.name, [], op.target)
    spent = time.perf_counter()
    for _ in range(warmup):
        await op.run()
        if time.perf_counter() - spent > budget / 3:
            break
    spent = time.perf_counter()
    for i in range(runs):
        started = time.perf_counter()
        value = await op.run()
        out.times.append((time.perf_counter() - started) * 1000)
        if i == 0:
            out.rows = describe(value)
        if time.perf_counter() - spent > budget and i >= 2:
            break
    return out


def describe(value: Any) -> str:
    if isinstance(value, int):
        return f"n={value}"
    if isinstance(value, rollup.Grid):
        return f"{len(value.centres)}x{len(value.months)}, filed {value.overall.filed}"
    if isinstance(value, list) and value and isinstance(value[0], rollup.FieldTotal):
        return f"{len(value)} fields, {value[0].reports} reports"
    if isinstance(value, list):
        return f"{len(value)} rows"
    return ""


def table(results: list[Result], title: str, target_ms: float) -> str:
    head = ("operation", "n", "min", "p50", "p95", "max", "", "result")
    lines = [head]
    for r in results:
        mark = ("ok" if r.pct(0.95) < target_ms else "SLOW") if r.target else ""
        lines.append(
            (
                r.name,
                str(len(r.times)),
                f"{min(r.times):.2f}",
                f"{statistics.median(r.times):.2f}",
                f"{r.pct(0.95):.2f}",
                f"{max(r.times):.2f}",
                mark,
                r.rows,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    out = [title, "  (milliseconds; 'ok'/'SLOW': p95 against the target)"]
    for j, row in enumerate(lines):
        cells = [
            c.ljust(widths[i]) if i in (0, 6, 7) else c.rjust(widths[i]) for i, c in enumerate(row)
        ]
        out.append("  " + "  ".join(cells).rstrip())
        if j == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out)


async def explain(ctx: Context, ops: list[Op]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the given operations run."""
    engine = db.engine()
    seen: list[tuple[str, QueryString]] = []
    original = engine.run_querystring

    async def capture(querystring: QueryString, in_pool: bool = True) -> Any:
        text = str(querystring)
        if "set_config(" not in text:
            seen.append((current, querystring))
        return await original(querystring, in_pool=in_pool)

    current = ""
    engine.run_querystring = capture  # type: ignore[method-assign]
    try:
        for op in ops:
            current = op.name
            await op.run()
    finally:
        engine.run_querystring = original  # type: ignore[method-assign]
    out = []
    for name, querystring in seen:
        async with db.read(ctx.scope):
            plan = await original(QueryString("EXPLAIN (ANALYZE, BUFFERS) {}", querystring))
        text = str(querystring)
        out.append(f"--- {name}: {text[:300]}{'…' if len(text) > 300 else ''}")
        out.extend("    " + r["QUERY PLAN"] for r in plan)
    return "\n".join(out)
