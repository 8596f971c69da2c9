"""Centre submissions, their history and the numeric values the roll-up sums."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app import db
from app.reports.tables import ReportValue, Submission, SubmissionEvent
from app.tenancy.scope import TenantScope

COLUMNS = (
    *Submission.all_columns(),
    Submission.tenant.slug.as_alias("tenant_slug"),
    Submission.tenant.name.as_alias("tenant_name"),
    Submission.saved_by.display_name.as_alias("saved_by_name"),
)


class Conflict(Exception):
    """Someone saved the submission since this copy was loaded."""


async def submission(scope: TenantScope, submission_id: int) -> dict[str, Any] | None:
    """One submission the scope may read (None: the caller answers 404)."""
    async with db.read(scope):
        return (
            await Submission.select(*COLUMNS)
            .where((Submission.id == submission_id) & Submission.tenant.is_in(list(scope.read_ids)))
            .output(load_json=True)
            .first()
        )


async def submission_for(
    scope: TenantScope, tenant_id: int, period_id: int
) -> dict[str, Any] | None:
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        return (
            await Submission.select(*COLUMNS)
            .where((Submission.tenant == tenant_id) & (Submission.period == period_id))
            .output(load_json=True)
            .first()
        )


async def submissions_of(scope: TenantScope, tenant_id: int, form_id: int) -> list[dict[str, Any]]:
    """A centre's submissions of one form, newest month first (its own list)."""
    if tenant_id not in scope.read_ids:
        return []
    async with db.read(scope):
        return (
            await Submission.select(
                Submission.id,
                Submission.period,
                Submission.month,
                Submission.status,
                Submission.revision,
                Submission.on_time,
                Submission.first_submitted_at,
                Submission.submitted_at,
                Submission.saved_at,
                Submission.return_reason,
            )
            .where((Submission.tenant == tenant_id) & (Submission.form == form_id))
            .order_by(Submission.month, ascending=False)
        )


async def previous_values(
    scope: TenantScope, tenant_id: int, form_id: int, month: int
) -> dict[str, str] | None:
    """The values of the centre's latest submitted report before ``month`` (for prev() and
    "copy last month"); None when there is none."""
    if tenant_id not in scope.read_ids:
        return None
    async with db.read(scope):
        row = (
            await Submission.select(Submission.values, Submission.status, Submission.month)
            .where(
                (Submission.tenant == tenant_id)
                & (Submission.form == form_id)
                & (Submission.month < month)
                & Submission.first_submitted_at.is_not_null()
            )
            .order_by(Submission.month, ascending=False)
            .output(load_json=True)
            .first()
        )
    return dict(row["values"] or {}) if row else None


async def insert_submission(scope: TenantScope, tenant_id: int, **values: Any) -> int:
    """Inside the caller's write transaction (the centre itself)."""
    scope.check_write(tenant_id)
    rows = await Submission.insert(Submission(tenant=tenant_id, **values)).returning(Submission.id)
    return int(rows[0]["id"])


async def update_submission(
    scope: TenantScope, row: dict[str, Any], expected: int | None, **values: Any
) -> int:
    """Change a submission (inside the caller's write) if its ``lock_version`` is still
    ``expected`` (None: do not check); returns the new lock version, raises Conflict."""
    tenant_id = row["tenant_id"]
    if tenant_id not in scope.write_ids and tenant_id not in scope.supervise_ids:
        raise PermissionError("not writable")
    current = (
        await Submission.select(Submission.lock_version)
        .where((Submission.id == row["id"]) & (Submission.tenant == tenant_id))
        .first()
    )
    if current is None or (expected is not None and current["lock_version"] != expected):
        raise Conflict()
    new = int(current["lock_version"]) + 1
    await Submission.update(
        {**{getattr(Submission, k): v for k, v in values.items()}, Submission.lock_version: new}
    ).where((Submission.id == row["id"]) & (Submission.tenant == tenant_id))
    return new


async def events(scope: TenantScope, submission_id: int) -> list[dict[str, Any]]:
    async with db.read(scope):
        return (
            await SubmissionEvent.select()
            .where(
                (SubmissionEvent.submission == submission_id)
                & SubmissionEvent.tenant.is_in(list(scope.read_ids))
            )
            .order_by(SubmissionEvent.id, ascending=False)
            .output(load_json=True)
        )


async def insert_event(scope: TenantScope, tenant_id: int, **values: Any) -> None:
    """Inside the caller's write transaction (the centre or one of its supervisors)."""
    if tenant_id not in scope.write_ids and tenant_id not in scope.supervise_ids:
        raise PermissionError("not writable")
    await SubmissionEvent.insert(SubmissionEvent(tenant=tenant_id, **values))


async def replace_values(
    scope: TenantScope, row: dict[str, Any], numbers: dict[str, Decimal]
) -> None:
    """The roll-up rows of a submission, replaced by its submitted numbers (inside the
    caller's write, by the centre)."""
    scope.check_write(row["tenant_id"])
    await ReportValue.delete().where(
        (ReportValue.submission == row["id"]) & (ReportValue.tenant == row["tenant_id"])
    )
    if numbers:
        await ReportValue.insert(
            *(
                ReportValue(
                    tenant=row["tenant_id"],
                    submission=row["id"],
                    form=row["form_id"],
                    month=row["month"],
                    field=key,
                    value=value,
                    counted=True,
                )
                for key, value in sorted(numbers.items())
            )
        )


async def uncount_values(scope: TenantScope, row: dict[str, Any]) -> None:
    """A returned submission leaves the roll-up until it is submitted again (inside the
    caller's write, by a reviewer)."""
    await ReportValue.update({ReportValue.counted: False}).where(
        (ReportValue.submission == row["id"]) & (ReportValue.tenant == row["tenant_id"])
    )
