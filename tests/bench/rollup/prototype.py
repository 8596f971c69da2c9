"""A prototype of an incremental aggregate for the field totals (``--try-running-totals``):
one row per centre, form and month holding every field's running total since the first
month (``{field: [sum to date, reports to date]}``).  Any range then reads two rows per
centre — the last month's and the one before the first — whatever its length, instead
of one ``report_value`` row per centre, field and month.

In the app the rows would be kept in the submission's own transaction (a submission or
a return of month M changes the rows of M and later months of that centre: one row when
the latest month is filed), so the totals stay exactly current.  Here they are built once
from ``report_value`` with a window function, then read through the app role under RLS
(class casework, the same policies — as InitPlans when ``--try-rls-initplan`` ran first)
and checked against ``rollup.totals``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import psycopg
from piccolo.querystring import QueryString

from app import db
from app.metrics import COUNTS, total
from app.reports import rollup
from app.reports.periods import previous_month
from app.reports.queries import rollup as rollup_queries
from tests.bench.rollup.database import Target
from tests.bench.rollup.measure import Context, Op

TABLE = """
CREATE TABLE report_running (
    id serial PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
    form_id integer NOT NULL REFERENCES report_form (id) ON DELETE RESTRICT,
    month integer NOT NULL,
    totals jsonb NOT NULL
);
CREATE UNIQUE INDEX uq_report_running_tenant_id_form_id_month
    ON report_running (tenant_id, form_id, month);
INSERT INTO report_running (tenant_id, form_id, month, totals)
WITH months AS (SELECT DISTINCT form_id, month FROM report_period),
keys AS (SELECT DISTINCT tenant_id, form_id, field FROM report_value),
cells AS (
    SELECT k.tenant_id, k.form_id, k.field, m.month,
           COALESCE(SUM(v.value), 0) AS value, COUNT(v.id) AS reports
    FROM keys k JOIN months m ON m.form_id = k.form_id
    LEFT JOIN report_value v ON v.tenant_id = k.tenant_id AND v.form_id = k.form_id
        AND v.field = k.field AND v.month = m.month AND v.counted
    GROUP BY k.tenant_id, k.form_id, k.field, m.month
),
running AS (
    SELECT tenant_id, form_id, field, month,
           SUM(value) OVER w AS value, SUM(reports) OVER w AS reports
    FROM cells WINDOW w AS (PARTITION BY tenant_id, form_id, field ORDER BY month)
)
SELECT tenant_id, form_id, month, jsonb_object_agg(field, jsonb_build_array(value, reports))
FROM running GROUP BY tenant_id, form_id, month;
"""


def build(target: Target) -> float:
    """Create and fill the table with the app's RLS policy for casework rows."""
    from tests.bench.rollup.experiments import INITPLAN, create_policies

    started = time.perf_counter()
    with psycopg.connect(target.maint_url, autocommit=True) as con:
        con.execute(TABLE)  # type: ignore[arg-type]
        con.execute("ALTER TABLE report_running ENABLE ROW LEVEL SECURITY")
        con.execute("ALTER TABLE report_running FORCE ROW LEVEL SECURITY")
        create_policies(con, "report_running", "casework", bool(INITPLAN))
        con.execute(f"GRANT SELECT ON report_running TO {target.roles[1]}")  # type: ignore[arg-type]
        con.execute("VACUUM ANALYZE report_running")
    return time.perf_counter() - started


async def totals(
    ctx: Context, first: int, last: int, keys: list[str] | None = None
) -> list[rollup.FieldTotal]:
    """``rollup.totals`` from the running totals (same result, two rows per centre)."""
    fields = [f for f in ctx.definition.fields() if f.rollup != "none"]
    if keys is not None:
        fields = [f for f in fields if f.key in keys]
    ids = sorted(t for t in ctx.centre_ids if t in ctx.scope.read_ids)
    before = previous_month(first)
    async with db.read(ctx.scope):
        rows = await db.engine().run_querystring(
            QueryString(
                "SELECT tenant_id, month, totals FROM report_running WHERE form_id = {}"
                f" AND month IN ({{}}, {{}}) AND tenant_id IN ({','.join(map(str, ids))})",
                ctx.form["id"],
                last,
                before,
            )
        )
    ends: dict[int, dict[str, Any]] = {}
    starts: dict[int, dict[str, Any]] = {}
    for row in rows:
        data = row["totals"]
        data = json.loads(data) if isinstance(data, str) else data  # numbers: ≤ 4 decimals
        (ends if row["month"] == last else starts)[int(row["tenant_id"])] = data
    sums: dict[str, list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    out = []
    for f in fields:
        per: dict[int, Decimal | None] = {}
        for cid in ctx.centre_ids:
            end = ends.get(cid, {}).get(f.key)
            if end is None:
                per[cid] = None
                continue
            start = starts.get(cid, {}).get(f.key, (0, 0))
            value = Decimal(str(end[0])) - Decimal(str(start[0]))
            reports = int(end[1]) - int(start[1])
            per[cid] = rollup._combine(f, value, reports) if reports else None
            entry = sums[f.key]
            entry[0] += value
            entry[1] += reports
        whole, count = sums[f.key] if f.key in sums else (None, 0)
        out.append(rollup.FieldTotal(f, rollup._combine(f, whole, count), count, per))
    case_rows = await rollup_queries.case_figures(
        ctx.scope, ctx.centre_ids, first, last, list(COUNTS)
    )
    figures = total(case_rows)
    for item in out:
        if item.field.source:
            item.from_cases = rollup._case_value(figures, item.field.source)
    return out


async def same_as_app(ctx: Context) -> str:
    """Compare with ``rollup.totals`` over 12 months (every field, every centre)."""
    mine = await totals(ctx, ctx.first12, ctx.last)
    theirs = await rollup.totals(
        ctx.scope, ctx.definition, ctx.form["id"], ctx.centre_ids, ctx.first12, ctx.last
    )
    same = [(a.total, a.reports, a.by_centre, a.from_cases) for a in mine] == [
        (b.total, b.reports, b.by_centre, b.from_cases) for b in theirs
    ]
    return "running totals give the same figures as rollup.totals" if same else "DIFFERENT"


def operations(ctx: Context) -> list[Op]:
    m12, m36 = f"{ctx.span12} months", f"{ctx.span36} months"
    ops = [
        Op(f"totals {m12}, all fields [running]", lambda: totals(ctx, ctx.first12, ctx.last), True),
        Op(f"totals {m36}, all fields [running]", lambda: totals(ctx, ctx.first36, ctx.last)),
        Op(
            f"totals {m36}, one field [running]",
            lambda: totals(ctx, ctx.first36, ctx.last, ["registered"]),
            True,
        ),
    ]
    return list({op.name: op for op in reversed(ops)}.values())[::-1]  # short runs repeat
