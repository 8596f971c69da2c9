"""Exporting monthly reports as .xlsx: one submission at once, the roll-up as a job.

``request_export`` checks what was asked (refusing it field by field), records an
``ExportJob`` with the requester's own read sets and sends ``reports.export`` after the
commit.  The actor (:func:`run`) builds the workbook under exactly that scope — the file
holds what the requester could see when asking — writing its progress every few rows in
short transactions of their own, then stores the file under ``tenants/<slug>/reports/…``
and marks the job done in the same transaction as the file's row; or failed, with a message
the page shows.  A job that is done is never built again, and a run that loses the race to
finish keeps no file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from app import db, jobs
from app.accounts import audit
from app.accounts.queries import UserInfo
from app.jobs import faults
from app.metrics import months_between
from app.reports import definition as definitions
from app.reports import filing, rollup, xlsx
from app.reports.periods import month_label, parse_month
from app.reports.queries import exports as queries
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.storage import services as storage
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, system_scope
from app.web.errors import Forbidden, NotFound
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

log = logging.getLogger("bianmin.reports")

DOMAIN = "reports"  # storage key: tenants/<slug>/reports/<uuid>
KINDS: dict[str, Any] = {"rollup": _l("Roll-up"), "submission": _l("One centre's report")}
PROGRESS_EVERY = 20  # rows between two progress writes
MAX_MONTHS = 120
MAX_BYTES = 200 * 1024 * 1024
FINISHED = frozenset({"done", "failed"})


class ExportRefused(Exception):
    """What was asked cannot be exported: a message per form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ExportError(Exception):
    """The job cannot be built; ``message`` is shown on its page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- asking ------------------------------------------------------------------------------


def _id(value: int | None) -> int | None:
    """A posted id the database can hold (SQLite and PostgreSQL fail on a larger one)."""
    return value if value is not None and 0 < value < 2**31 else None


async def rollup_params(
    scope: TenantScope,
    tree: Tree,
    form_id: int | None,
    first_text: str | None,
    last_text: str | None,
    under: str | None,
) -> dict[str, Any]:
    """{form, from, to, under} for a roll-up export, or ExportRefused."""
    errors: dict[str, str] = {}
    form_id = _id(form_id)
    form = await form_queries.form(scope, form_id) if form_id else None
    if form is None:
        errors["form"] = _("Choose a form.")
    first, last = parse_month(first_text), parse_month(last_text)
    if first is None:
        errors["first"] = _("Enter a month as YYYY-MM.")
    if last is None:
        errors["last"] = _("Enter a month as YYYY-MM.")
    if first is not None and last is not None:
        if first > last:
            errors["last"] = _("The last month cannot be before the first.")
        elif len(months_between(first, last)) > MAX_MONTHS:
            errors["last"] = _("At most %(n)s months at a time.", n=MAX_MONTHS)
    node = tree.by_slug.get((under or "").strip()) if under else tree.nodes.get(scope.own())
    if node is None or node.id not in scope.read_ids:
        errors["under"] = _("Choose centres you can see.")
    if errors:
        raise ExportRefused(errors)
    assert form is not None and node is not None
    return {"form": int(form["id"]), "from": first, "to": last, "under": node.id}


async def submission_params(
    scope: TenantScope, tree: Tree, period_id: int | None, centre: str | None
) -> dict[str, Any]:
    """{period, centre} for one report: the centre's own (report.view) or one it reviews."""
    errors: dict[str, str] = {}
    period_id = _id(period_id)
    period = await period_queries.period(scope, period_id) if period_id else None
    if period is None:
        errors["period_id"] = _("Choose a month.")
    node = tree.by_slug.get((centre or "").strip()) if centre else tree.nodes.get(scope.own())
    own = node is not None and node.id == scope.tenant_id and scope.can("report.view")
    reviews = node is not None and scope.can("report.review") and node.id in scope.supervise_ids
    if node is None or not (own or reviews):
        errors["centre"] = _("Choose a centre whose reports you can see.")
    if errors:
        raise ExportRefused(errors)
    assert period is not None and node is not None
    return {"period": int(period["id"]), "centre": node.id}


def scope_params(scope: TenantScope) -> dict[str, Any]:
    """The requester's read sets, kept on the job: the actor reads with exactly these."""
    return {
        "roles": sorted(scope.roles),
        "read": sorted(scope.read_ids),
        "shared": sorted(scope.shared_ids),
        "supervise": sorted(scope.supervise_ids),
    }


def job_scope(row: Mapping[str, Any]) -> TenantScope:
    """The requester's scope, rebuilt from the job (writing only the job's own tenant)."""
    kept = (row.get("params") or {}).get("scope") or {}
    tenant_id = int(row["tenant_id"])
    return TenantScope(
        tenant_id=tenant_id,
        user_id=row.get("requested_by_id"),
        roles=frozenset(kept.get("roles") or ()),
        read_ids=frozenset(int(t) for t in kept.get("read") or ()),
        write_ids=frozenset({tenant_id}),
        shared_ids=frozenset(int(t) for t in kept.get("shared") or ()),
        supervise_ids=frozenset(int(t) for t in kept.get("supervise") or ()),
    )


async def request_export(
    scope: TenantScope,
    kind: str,
    params: dict[str, Any],
    user: UserInfo,
    request: Request | None = None,
) -> int:
    """Record the job (queued, audited) and send it to the worker once that has committed."""
    scope.require("report.export")
    if kind not in KINDS:
        raise ExportRefused({"kind": _("Choose what to export.")})
    from app.reports.tasks import export

    tenant_id = scope.own()
    if tenant_id not in scope.write_ids:  # e.g. a supervisor visiting a centre below
        raise Forbidden()
    async with db.write(scope):
        job_id = await queries.insert_job(
            scope,
            tenant_id,
            kind=kind,
            params={**params, "scope": scope_params(scope)},
            status="queued",
            requested_by=user.id,
        )
        await audit.record(
            request,
            "report.export",
            tenant_id=tenant_id,
            object_type="export_job",
            object_id=job_id,
            kind=kind,
            **params,
        )
        jobs.send(export, job_id)
    return job_id


async def job(scope: TenantScope, job_id: int) -> dict[str, Any]:
    """The requester's own job at this tenant (404 for anything else)."""
    row = await queries.job(scope, job_id, scope.own())
    if row is None:
        raise NotFound()
    return row


def percent(row: Mapping[str, Any]) -> int:
    if row["status"] == "done":
        return 100
    total = int(row["total"] or 0)
    return min(100, int(100 * int(row["done"] or 0) / total)) if total else 0


# --- building ----------------------------------------------------------------------------


async def submission_export(
    scope: TenantScope, tree: Tree, period_id: int, tenant_id: int
) -> tuple[bytes, str]:
    """One centre's report as .xlsx (404 when there is none the scope may read)."""
    report = await filing.load(scope, period_id, tenant_id)
    if report.submission is None:
        raise NotFound()
    events = await submission_queries.events(scope, report.submission["id"])
    centre = tree.nodes[tenant_id].name if tenant_id in tree.nodes else ""
    data = xlsx.submission_workbook(
        report.definition,
        report.form,
        report.period,
        centre,
        report.submission,
        events,
        report.result().rules,
    )
    month = month_label(int(report.period["month"]))
    return data, f"{centre}-{report.form['title']}-{month}.xlsx"


async def rollup_data(
    scope: TenantScope, tree: Tree, form_id: int, first: int, last: int, under_id: int
) -> xlsx.RollupData:
    """The fields' totals and the status grid of the centres under ``under_id``, with the
    form version of the newest period in the range (the current one if none opened)."""
    form = await form_queries.form(scope, form_id)
    if form is None:
        raise ExportError(_("The form no longer exists."))
    if under_id not in tree.nodes or under_id not in scope.read_ids:
        raise ExportError(_("These centres can no longer be read."))
    opened = await period_queries.periods(scope, form_id, first, last)
    if opened:
        version = await form_queries.version(scope, opened[0]["version_id"])
    else:
        version = await form_queries.version_number(scope, form_id, int(form["current_version"]))
    if version is None:
        raise ExportError(_("The form has no version in force."))
    definition = definitions.load(version["definition"])
    months = [int(p["month"]) for p in opened]
    grid = await rollup.grid(
        scope, tree, form, list(definition.filers), under_id, months, first, last
    )
    totals = await rollup.totals(
        scope, definition, form_id, [c.id for c in grid.centres], first, last
    )
    return xlsx.RollupData(
        form["title"], tree.nodes[under_id].name, first, last, grid.centres, totals, grid
    )


class _Progress:
    """``done/total`` written every ``PROGRESS_EVERY`` rows, each in its own transaction."""

    def __init__(self, scope: TenantScope, row: dict[str, Any]) -> None:
        self.scope, self.row, self.written = scope, row, 0

    async def write(self, done: int, total: int) -> None:
        if done - self.written >= PROGRESS_EVERY or done >= total:
            await queries.update_job(self.scope, self.row, done=done, total=total)
            self.written = done

    def bridge(self, loop: asyncio.AbstractEventLoop) -> Callable[[int, int], None]:
        """A callback for the builder thread that waits for the write on ``loop``."""

        def call(done: int, total: int) -> None:
            asyncio.run_coroutine_threadsafe(self.write(done, total), loop).result(timeout=120)

        return call


async def _build(scope: TenantScope, tree: Tree, row: dict[str, Any]) -> tuple[bytes, str, int]:
    params = row.get("params") or {}
    if row["kind"] == "submission":
        try:
            data, name = await submission_export(
                scope, tree, int(params["period"]), int(params["centre"])
            )
        except NotFound:
            raise ExportError(_("There is no report to export.")) from None
        return data, name, 1
    if row["kind"] != "rollup":
        raise ExportError(_("Unknown kind of export."))
    first, last = int(params["from"]), int(params["to"])
    found = await rollup_data(scope, tree, int(params["form"]), first, last, int(params["under"]))
    await queries.update_job(scope, row, done=0, total=found.rows)
    progress = _Progress(scope, row)
    data = await asyncio.to_thread(
        xlsx.rollup_workbook, found, progress.bridge(asyncio.get_running_loop())
    )
    name = f"{found.under}-{found.form_title}-{month_label(first)}-{month_label(last)}.xlsx"
    return data, name, found.rows


async def run(job_id: int) -> str:
    """The actor's body; returns the job's status afterwards (idempotent)."""
    tree = await tenancy.tree()
    finder = system_scope(tree, reason="reports.export: find the job's requester")
    row = await queries.job_by_id(finder, job_id)
    if row is None:
        log.warning("export job %s not found", job_id)
        return "missing"
    scope = job_scope(row)
    if not await queries.start_job(scope, row):
        return "done"
    try:
        data, filename, total = await _build(scope, tree, row)
        await storage.store_bytes(
            scope,
            data,
            domain=DOMAIN,
            filename=filename,
            allowed=(xlsx.XLSX,),
            max_bytes=MAX_BYTES,
            attach=_finisher(scope, row, storage.display_name(filename, xlsx.XLSX), total),
        )
    except _FinishedElsewhere:  # another delivery finished first: its file is the one kept
        return "done"
    except ExportError as exc:
        await queries.update_job(
            scope, row, status="failed", error=exc.message, finished_at=datetime.now(UTC)
        )
        return "failed"
    except Exception:
        log.exception("export job %s failed", job_id)
        await queries.update_job(
            scope,
            row,
            status="failed",
            error=_("The export failed unexpectedly. Try again later."),
            finished_at=datetime.now(UTC),
        )
        raise  # retried: a later run may still succeed
    return "done"


class _FinishedElsewhere(Exception):
    """Another delivery of the job attached its file first (this one's is not kept)."""


def _finisher(
    scope: TenantScope, row: dict[str, Any], filename: str, total: int
) -> Callable[[int], Awaitable[None]]:
    """Mark the job done in the transaction that writes its file's row: a worker killed at
    any moment leaves either both or neither (at most an unreferenced object)."""

    async def attach(file_id: int) -> None:
        await faults.checkpoint("reports.export.stored")
        now = datetime.now(UTC)
        if not await queries.finish_job(
            scope, row, file_id=file_id, filename=filename, total=total, now=now
        ):
            raise _FinishedElsewhere()

    return attach
