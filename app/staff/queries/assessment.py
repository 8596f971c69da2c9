"""What the assessment reads itself: a centre's cases per window in a month, and the
division's scheme (centre figures come from app.supervision.figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from app import db
from app.metrics import LEVELS, month_range
from app.staff.tables import AssessmentScheme
from app.tenancy.scope import TenantScope


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.engine().run_querystring(QueryString(sql, *args))


async def window_case_counts(
    scope: TenantScope, tenant_id: int, month: int
) -> dict[int, dict[str, int]]:
    """Window id → the app.metrics counts its rates need (concluded, on_time, late, unrated,
    rated, level_5 … level_1) of one local month, each by the month of its own moment."""
    if tenant_id not in scope.read_ids:
        return {}
    start, end = month_range(month)
    async with db.read(scope):
        concluded = await _sql(
            "SELECT window_id, COUNT(*) AS concluded,"
            " SUM(CASE WHEN on_time THEN 1 ELSE 0 END) AS on_time,"
            " SUM(CASE WHEN NOT on_time THEN 1 ELSE 0 END) AS late,"
            " SUM(CASE WHEN rated THEN 0 ELSE 1 END) AS unrated"
            " FROM service_case WHERE tenant_id = {} AND concluded_at >= {} AND concluded_at < {}"
            " AND window_id IS NOT NULL GROUP BY window_id",
            tenant_id,
            start,
            end,
        )
        ratings = await _sql(
            "SELECT c.window_id AS window_id, r.level AS level, COUNT(*) AS n"
            " FROM rating r JOIN service_case c ON c.id = r.case_id"
            " WHERE r.tenant_id = {} AND r.rated_at >= {} AND r.rated_at < {}"
            " AND c.window_id IS NOT NULL GROUP BY c.window_id, r.level",
            tenant_id,
            start,
            end,
        )
    out: dict[int, dict[str, int]] = {}
    for row in concluded:
        counts = out.setdefault(int(row["window_id"]), {})
        for name in ("concluded", "on_time", "late", "unrated"):
            counts[name] = int(row[name] or 0)
    for row in ratings:
        counts = out.setdefault(int(row["window_id"]), {})
        level = int(row["level"])
        if level in LEVELS:
            counts[f"level_{level}"] = counts.get(f"level_{level}", 0) + int(row["n"])
            counts["rated"] = counts.get("rated", 0) + int(row["n"])
    return out


# --- the scheme (shared: owned by a division) --------------------------------------------


async def scheme_of(scope: TenantScope, owner_id: int) -> dict[str, Any] | None:
    if owner_id not in scope.shared_ids:
        return None
    async with db.read(scope):
        return (
            await AssessmentScheme.select()
            .where(AssessmentScheme.tenant == owner_id)
            .output(load_json=True)
            .first()
        )


async def insert_scheme(
    scope: TenantScope, owner_id: int, versions: list[Any], now: datetime
) -> None:
    """Inside the caller's write (the owning division)."""
    scope.check_write(owner_id)
    await AssessmentScheme.insert(
        AssessmentScheme(
            tenant=owner_id, current_version=len(versions), versions=versions, updated_at=now
        )
    )


async def update_scheme(
    scope: TenantScope, owner_id: int, expected: int, versions: list[Any], now: datetime
) -> bool:
    """Replace the versions (inside the caller's write) if the lock version is ``expected``;
    False when someone saved first."""
    scope.check_write(owner_id)
    row = (
        await AssessmentScheme.select(AssessmentScheme.id, AssessmentScheme.lock_version)
        .where(AssessmentScheme.tenant == owner_id)
        .first()
    )
    if row is None or row["lock_version"] != expected:
        return False
    await AssessmentScheme.update(
        {
            AssessmentScheme.versions: versions,
            AssessmentScheme.current_version: len(versions),
            AssessmentScheme.updated_at: now,
            AssessmentScheme.lock_version: expected + 1,
        }
    ).where(AssessmentScheme.id == row["id"])
    return True
