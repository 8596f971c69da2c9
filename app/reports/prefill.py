"""Pre-filling a report from the centre's own case records for the month.

Every figure comes from :mod:`app.metrics` (the stored monthly figures, at most about a
minute behind the case desk) — the same numbers the supervision view shows.  Each value
carries the moment it was computed, which the form shows next to the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.cases.queries import stats as case_stats
from app.metrics import COUNTS, Figures, total
from app.reports.definition import Definition
from app.tenancy.scope import TenantScope


def _value(figures: Figures, source: str, carried: int) -> int | Decimal | None:
    if source == "carried_over":
        return carried
    if source == "good":
        return figures.good
    if source in ("good_rate", "unrated_rate", "on_time_rate"):
        return getattr(figures, source)  # type: ignore[no-any-return]
    if source in COUNTS:
        return figures[source]
    return None


async def sources(
    scope: TenantScope, definition: Definition, tenant_id: int, month: int
) -> dict[str, dict[str, Any]]:
    """``{field key: {"source", "value", "at"}}`` for every pre-filled field of the form."""
    wanted = [f for f in definition.fields() if f.source]
    if not wanted:
        return {}
    rows = await case_stats.month_stats(scope, [tenant_id], month, month)
    figures = total(rows)
    computed = [r["computed_at"] for r in rows if r.get("computed_at")]
    at = max(computed) if computed else datetime.now(UTC)
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    carried = 0
    if any(f.source == "carried_over" for f in wanted):
        carried = await case_stats.carried_over(scope, tenant_id, month)
    out: dict[str, dict[str, Any]] = {}
    for f in wanted:
        value = _value(figures, f.source, carried)
        out[f.key] = {
            "source": f.source,
            "value": None if value is None else str(value),
            "at": at.astimezone(UTC).isoformat(timespec="seconds"),
        }
    return out
