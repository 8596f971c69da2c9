"""Filing a monthly report (the centre): open it, save drafts, copy last month, fill empty
fields with zero, submit once the blocking rules pass.

Every write checks the ``lock_version`` the page was loaded with, so a second tab or a
colleague's save is never silently overwritten (``Conflict``).  Pre-filled fields follow
the case records until the centre changes them; a changed one needs a note, which stays
visible to reviewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app import db
from app.accounts import audit
from app.reports import definition as definitions
from app.reports import periods, prefill
from app.reports.definition import Definition
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as queries
from app.reports.queries.submissions import Conflict
from app.reports.values import Check, check, number
from app.tenancy.scope import TenantScope
from app.web.errors import NotFound
from app.web.i18n import gettext as _

__all__ = ["Conflict", "Filing", "FilingError", "load", "save", "submit"]


class FilingError(Exception):
    """The report cannot be changed or submitted now; ``check`` says why, field by field."""

    def __init__(self, message: str, check: Check | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.check = check


@dataclass
class Filing:
    """Everything the form page shows for one centre and period."""

    period: dict[str, Any]
    form: dict[str, Any]
    definition: Definition
    tenant_id: int
    submission: dict[str, Any] | None
    sources: dict[str, dict[str, Any]]  # live figures from the case records
    previous: dict[str, str] | None
    access: periods.Access
    exceptions: list[dict[str, Any]]

    @property
    def values(self) -> dict[str, str]:
        """What the form shows: the saved values, or the pre-filled figures for a new one."""
        if self.submission is not None:
            return dict(self.submission["values"] or {})
        return {k: v["value"] for k, v in self.sources.items() if v.get("value") is not None}

    @property
    def lock_version(self) -> int:
        return int(self.submission["lock_version"]) if self.submission else 0

    def result(self, for_submit: bool = False) -> Check:
        sub = self.submission or {}
        return check(
            self.definition,
            self.values,
            previous=self.previous,
            sources=sub.get("sources") or self.sources,
            corrections=sub.get("corrections") or {},
            comments=sub.get("comments") or {},
            for_submit=for_submit,
        )


async def load(
    scope: TenantScope, period_id: int, tenant_id: int | None = None, now: datetime | None = None
) -> Filing:
    """One centre's report for a period (404 if the scope cannot read it or the centre does
    not file this form)."""
    tenant_id = scope.own() if tenant_id is None else tenant_id
    if tenant_id not in scope.read_ids:
        raise NotFound()
    period = await period_queries.period(scope, period_id)
    if period is None:
        raise NotFound()
    form = await form_queries.form(scope, period["form_id"])
    version = await form_queries.version(scope, period["version_id"])
    if form is None or version is None:
        raise NotFound()
    definition = definitions.load(version["definition"])
    submission = await queries.submission_for(scope, tenant_id, period_id)
    exceptions = await period_queries.exceptions(scope, period_id, tenant_id)
    return Filing(
        period=period,
        form=form,
        definition=definition,
        tenant_id=tenant_id,
        submission=submission,
        sources=await prefill.sources(scope, definition, tenant_id, period["month"]),
        previous=await queries.previous_values(scope, tenant_id, form["id"], period["month"]),
        access=periods.access(period, submission, exceptions, now),
        exceptions=exceptions,
    )


def _follow_sources(
    filing: Filing, values: dict[str, str], corrections: dict[str, str]
) -> dict[str, str]:
    """A pre-filled field the centre left as it was (no note) follows the case records."""
    old = (filing.submission or {}).get("sources") or {}
    out = dict(values)
    for key, live in filing.sources.items():
        if live.get("value") is None or (corrections.get(key) or "").strip():
            continue
        before = old.get(key, {}).get("value")
        if out.get(key, "") in ("", before):
            out[key] = live["value"]
    return out


def _clean(raw: dict[str, Any], keys: set[str], limit: int = 500) -> dict[str, str]:
    return {k: str(v).strip()[:limit] for k, v in raw.items() if k in keys and str(v).strip()}


async def save(
    scope: TenantScope,
    filing: Filing,
    raw: dict[str, Any],
    *,
    corrections: dict[str, Any],
    comments: dict[str, Any],
    lock_version: int | None,
    now: datetime | None = None,
) -> Check:
    """Save a draft (format problems are reported but what was typed is kept)."""
    now = now or datetime.now(UTC)
    scope.check_write(filing.tenant_id)
    if not filing.access.editable:
        raise FilingError(filing.access.reason)
    field_keys = {f.key for f in filing.definition.fields()}
    corrections_clean = _clean(corrections, field_keys)
    comments_clean = _clean(comments, {r.key for r in filing.definition.rules})
    result = check(
        filing.definition,
        _follow_sources(filing, dict(raw), corrections_clean),
        previous=filing.previous,
        sources=filing.sources,
        corrections=corrections_clean,
        comments=comments_clean,
    )
    stored = {k: v for k, v in result.values.items() if v}
    values: dict[str, Any] = {
        "values": stored,
        "sources": filing.sources,
        "corrections": corrections_clean,
        "comments": comments_clean,
        "saved_at": now,
        "saved_by": scope.user_id,
    }
    async with db.write(scope):
        if filing.submission is None:
            if lock_version not in (None, 0):
                raise Conflict()
            try:
                new_id = await queries.insert_submission(
                    scope,
                    filing.tenant_id,
                    period=filing.period["id"],
                    form=filing.form["id"],
                    month=filing.period["month"],
                    status="draft",
                    lock_version=1,
                    **values,
                )
            except Exception as exc:  # the unique (tenant, period) key: another tab won
                if "unique" in str(exc).lower() or "constraint" in str(exc).lower():
                    raise Conflict() from exc
                raise
            filing.submission = {"id": new_id, "tenant_id": filing.tenant_id, "lock_version": 1}
        else:
            status = filing.submission["status"]
            new_version = await queries.update_submission(
                scope, filing.submission, lock_version, status=status, **values
            )
            filing.submission = {**filing.submission, "lock_version": new_version}
        filing.submission.update(values, status=filing.submission.get("status", "draft"))
    return result


async def submit(
    scope: TenantScope,
    filing: Filing,
    raw: dict[str, Any],
    *,
    corrections: dict[str, Any],
    comments: dict[str, Any],
    lock_version: int | None,
    actor_name: str = "",
    request: Any = None,
    now: datetime | None = None,
) -> Check:
    """Save and submit; refused (FilingError with the check) unless every required field is
    filled, every blocking rule holds and every warning has a comment.  When refused,
    nothing is written: the caller re-renders what was typed."""
    now = now or datetime.now(UTC)
    scope.check_write(filing.tenant_id)
    if not filing.access.editable:
        raise FilingError(filing.access.reason)
    field_keys = {f.key for f in filing.definition.fields()}
    corrections_clean = _clean(corrections, field_keys)
    comments_clean = _clean(comments, {r.key for r in filing.definition.rules})
    result = check(
        filing.definition,
        dict(raw),
        previous=filing.previous,
        sources=filing.sources,
        corrections=corrections_clean,
        comments=comments_clean,
        for_submit=True,
    )
    if not result.can_submit:
        raise FilingError(_("The report cannot be submitted yet: see the marked fields."), result)
    stored = {k: v for k, v in result.values.items() if v}
    first = (filing.submission or {}).get("first_submitted_at")
    revision = int((filing.submission or {}).get("revision") or 0) + 1
    values: dict[str, Any] = {
        "values": stored,
        "sources": filing.sources,
        "corrections": corrections_clean,
        "comments": comments_clean,
        "saved_at": now,
        "saved_by": scope.user_id,
        "status": "submitted",
        "revision": revision,
        "submitted_at": now,
        "return_reason": "",
    }
    if first is None:
        values["first_submitted_at"] = now
        values["on_time"] = periods.is_on_time(filing.period, now)
    numbers: dict[str, Decimal] = {}
    for f in filing.definition.fields():
        if f.numeric and stored.get(f.key):
            value = number(f, stored[f.key])
            if value is not None:
                numbers[f.key] = value
    async with db.write(scope):
        if filing.submission is None:
            if lock_version not in (None, 0):
                raise Conflict()
            new_id = await queries.insert_submission(
                scope,
                filing.tenant_id,
                period=filing.period["id"],
                form=filing.form["id"],
                month=filing.period["month"],
                lock_version=1,
                **values,
            )
            row = {"id": new_id, "tenant_id": filing.tenant_id, "form_id": filing.form["id"]}
        else:
            await queries.update_submission(scope, filing.submission, lock_version, **values)
            row = {**filing.submission}
        row["month"] = filing.period["month"]
        row["form_id"] = filing.form["id"]
        await queries.replace_values(scope, row, numbers)
        await queries.insert_event(
            scope,
            filing.tenant_id,
            submission=row["id"],
            at=now,
            actor=scope.user_id,
            actor_name=actor_name[:64],
            action="submitted",
            revision=revision,
            note="",
            data={
                "values": stored,
                "corrections": corrections_clean,
                "comments": comments_clean,
                "on_time": values.get("on_time", (filing.submission or {}).get("on_time")),
            },
        )
        if request is not None:
            await audit.record(
                request,
                "report.submit",
                tenant_id=filing.tenant_id,
                object_type="report_period",
                object_id=filing.period["id"],
                month=filing.period["month"],
                revision=revision,
            )
    return result


def copied(filing: Filing) -> dict[str, str]:
    """Last month's values for the fields that are not pre-filled from case records (which
    keep this month's figures)."""
    previous = filing.previous or {}
    out = dict(filing.values)
    for f in filing.definition.fields():
        if not f.source and f.key in previous:
            out[f.key] = previous[f.key]
    return out


def zero_filled(filing: Filing, values: dict[str, str]) -> dict[str, str]:
    """Every empty number field set to 0 (text, choices and yes/no stay as they are)."""
    out = dict(values)
    for f in filing.definition.fields():
        if f.type in ("integer", "decimal", "percent") and not str(out.get(f.key, "")).strip():
            out[f.key] = "0"
    return out
