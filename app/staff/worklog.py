"""Writing and reviewing the daily work logs (工作日志).

A clerk (``worklog.write``) writes the log of a window where they hold the A or the B post;
a manager (``worklog.review``) may write any window's log of the centre and reviews it
(comment; the log is read-only afterwards).  A new log is refused on a non-working day of
the centre's calendar and for a day still to come.  The staff lines are pre-filled from the
window's posts (a new log) or kept from the log (an edit): the form only sets each line's
attendance and note.  The platform's counts are recounted from the cases at every save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request

from app import db
from app.accounts import audit
from app.calendar import services as calendar
from app.calendar.workdays import SHANGHAI
from app.staff.queries import worklogs as queries
from app.staff.summary import ATTENDANCE
from app.tenancy.scope import TenantScope
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _

MAX_OFFLINE = 10_000
MAX_TEXT = 2000


class WorkLogError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


@dataclass(frozen=True)
class Entry:
    """What the form posts: each staff line's attendance and note, the offline count and
    the notes (the text as typed, kept for a 422)."""

    attendance: list[str]
    notes: list[str]
    offline: str
    style_notes: str
    discipline_notes: str
    note: str


async def may_write(scope: TenantScope, tenant_id: int, window_id: int) -> bool:
    """The centre's own staff with worklog.write: managers any window, clerks their posts."""
    if tenant_id not in scope.write_ids or not scope.can("worklog.write"):
        return False
    if scope.can("worklog.review"):
        return True
    posts = await queries.posts(scope, tenant_id, window_id)
    return any(p["user_id"] == scope.user_id for p in posts)


async def staff_lines(scope: TenantScope, tenant_id: int, window_id: int) -> list[dict[str, Any]]:
    """A new log's staff lines: the A and B post holders, present, without notes."""
    return [
        {"user_id": p["user_id"], "name": p["name"], "post": p["post"],
         "attendance": "present", "note": ""}
        for p in await queries.posts(scope, tenant_id, window_id)
    ]  # fmt: skip


async def platform_counts(
    scope: TenantScope, tenant_id: int, window_id: int, day: date
) -> dict[str, int]:
    start, end = day_bounds(day)
    return await queries.window_day_counts(scope, tenant_id, window_id, start, end)


def _clean(
    entry: Entry, lines: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    errors: dict[str, str] = {}
    out = []
    for i, line in enumerate(lines):
        status = entry.attendance[i] if i < len(entry.attendance) else ""
        note = (entry.notes[i] if i < len(entry.notes) else "").strip()
        if status not in ATTENDANCE:
            errors[f"attendance_{i}"] = _("Choose the attendance of %(name)s.", name=line["name"])
        if len(note) > 500:
            errors[f"note_{i}"] = _("At most %(n)s characters.", n=500)
        out.append({**line, "attendance": status, "note": note})
    try:
        offline = int(entry.offline.strip() or "0")
        if not 0 <= offline <= MAX_OFFLINE:
            raise ValueError
    except ValueError:
        errors["offline"] = _("A whole number from 0 to %(max)s.", max=MAX_OFFLINE)
        offline = 0
    for name in ("style_notes", "discipline_notes", "note"):
        if len(getattr(entry, name)) > MAX_TEXT:
            errors[name] = _("At most %(n)s characters.", n=MAX_TEXT)
    return out, offline, errors


class Invalid(WorkLogError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Check the marked fields."), "")
        self.errors = errors


async def create(
    request: Request | None,
    scope: TenantScope,
    tenant_id: int,
    window_id: int,
    day: date,
    entry: Entry,
    *,
    now: datetime | None = None,
) -> int:
    """Write a new log; returns its id (an existing log of that window and day: Conflict)."""
    now = now or datetime.now(UTC)
    if await queries.window(scope, tenant_id, window_id) is None:
        raise NotFound()
    if not await may_write(scope, tenant_id, window_id):
        raise Forbidden()
    await check_day(scope, tenant_id, day, now)
    lines, offline, errors = _clean(entry, await staff_lines(scope, tenant_id, window_id))
    if errors:
        raise Invalid(errors)
    counts = await platform_counts(scope, tenant_id, window_id, day)
    async with db.write(scope):
        if await queries.log_for(scope, tenant_id, window_id, day) is not None:
            raise queries.Conflict()
        log_id = await queries.insert_log(
            scope,
            tenant_id,
            window=window_id,
            day=day,
            staff=lines,
            style_notes=entry.style_notes.strip(),
            discipline_notes=entry.discipline_notes.strip(),
            note=entry.note.strip(),
            offline=offline,
            written_by=scope.user_id,
            written_at=now,
            updated_at=now,
            **counts,
        )
        await audit.record(
            request, "worklog.written", tenant_id=tenant_id, object_type="work_log",
            object_id=log_id, day=day.isoformat(), window=window_id,
        )  # fmt: skip
    return log_id


async def check_day(scope: TenantScope, tenant_id: int, day: date, now: datetime) -> None:
    if day > today(now):
        raise WorkLogError(_("A work log is written on the day or after it, not before."), "day")
    cal = await calendar.load(scope, tenant_id)
    if not cal.days.is_working_day(day):
        raise WorkLogError(
            _("%(day)s is not a working day of this centre: no work log is kept for it.",
              day=day.isoformat()),
            "day",
        )  # fmt: skip


async def update(
    request: Request | None,
    scope: TenantScope,
    log: Mapping[str, Any],
    entry: Entry,
    lock_version: int,
    *,
    now: datetime | None = None,
) -> None:
    """Save changes to a log not yet reviewed (a stale copy: Conflict)."""
    now = now or datetime.now(UTC)
    tenant_id, window_id = int(log["tenant_id"]), int(log["window_id"])
    if not await may_write(scope, tenant_id, window_id):
        raise Forbidden()
    if log["reviewed_at"] is not None:
        raise WorkLogError(_("This log has been reviewed and can no longer be changed."))
    lines, offline, errors = _clean(entry, list(log["staff"] or []))
    if errors:
        raise Invalid(errors)
    counts = await platform_counts(scope, tenant_id, window_id, log["day"])
    async with db.write(scope):
        current = await queries.locked_copy(scope, tenant_id, int(log["id"]))
        if current is None:
            raise NotFound()
        if current["reviewed_at"] is not None:
            raise WorkLogError(_("This log has been reviewed and can no longer be changed."))
        await queries.update_log(
            scope,
            tenant_id,
            int(log["id"]),
            lock_version,
            staff=lines,
            style_notes=entry.style_notes.strip(),
            discipline_notes=entry.discipline_notes.strip(),
            note=entry.note.strip(),
            offline=offline,
            updated_at=now,
            **counts,
        )
        await audit.record(
            request, "worklog.updated", tenant_id=tenant_id, object_type="work_log",
            object_id=log["id"],
        )  # fmt: skip


async def review(
    request: Request | None,
    scope: TenantScope,
    log: Mapping[str, Any],
    comment: str,
    lock_version: int,
    *,
    now: datetime | None = None,
) -> None:
    """A manager of the centre reviews the log: it is read-only afterwards."""
    now = now or datetime.now(UTC)
    tenant_id = int(log["tenant_id"])
    if tenant_id not in scope.write_ids or not scope.can("worklog.review"):
        raise Forbidden()
    comment = comment.strip()
    if len(comment) > MAX_TEXT:
        raise WorkLogError(_("At most %(n)s characters.", n=MAX_TEXT), "comment")
    async with db.write(scope):
        current = await queries.locked_copy(scope, tenant_id, int(log["id"]))
        if current is None:
            raise NotFound()
        if current["reviewed_at"] is not None:
            raise WorkLogError(_("This log has already been reviewed."))
        await queries.update_log(
            scope,
            tenant_id,
            int(log["id"]),
            lock_version,
            reviewed_at=now,
            reviewed_by=scope.user_id,
            review_comment=comment,
        )
        await audit.record(
            request, "worklog.reviewed", tenant_id=tenant_id, object_type="work_log",
            object_id=log["id"],
        )  # fmt: skip
