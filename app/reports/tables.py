"""Monthly reports (月报): form definitions and their versions (the division's), the monthly
periods, each centre's submission with its history, reviews, lock exceptions, the numeric
values the roll-up sums, reminders sent and export jobs.

A form version's ``definition`` is one JSON document (sections, fields, rules, who files,
due and lock days) validated by :mod:`app.reports.definition`.  A period keeps the version
in force when it opened.  ``ReportValue`` holds one row per submitted numeric field, written
in the same transaction as the submission (and removed when it is returned), so roll-up
totals are never behind a submission.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.schema import indexed, tenant_owned
from app.storage.tables import StoredFile
from app.tenancy.tables import Tenant


@tenant_owned("shared", unique=[("tenant_id", "code")])
class ReportForm(Table):
    """A reporting form a division defines once (e.g. the monthly convenience-centre form)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    code = Varchar(length=32)
    title = Varchar(length=200)
    current_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)  # no new periods open after this


@tenant_owned("shared", unique=[("tenant_id", "form_id", "number")])
class FormVersion(Table):
    """One version of a form; never changed once saved (a period may point at it)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    form = ForeignKey(ReportForm, on_delete=OnDelete.restrict, index=True, db_column_name="form_id")
    number = Integer()
    effective_from = Date()  # periods opening on or after this day use this version
    definition = JSON()  # see app.reports.definition
    change_note = Text(default="")
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("shared", unique=[("tenant_id", "form_id", "month")])
class ReportPeriod(Table):
    """One month of one form (``month`` = yyyymm), opened on the 1st of the next month with
    the version then in force and its due and lock days."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    form = ForeignKey(ReportForm, on_delete=OnDelete.restrict, index=True, db_column_name="form_id")
    version = ForeignKey(
        FormVersion, on_delete=OnDelete.restrict, index=True, db_column_name="version_id"
    )
    month = Integer()
    due_on = Date()  # submitted by the end of this local day = on time
    lock_on = Date()  # read-only after this local day (unless an exception is granted)
    opened_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework", unique=[("tenant_id", "period_id")])
@indexed(("form_id", "month", "tenant_id"))
class Submission(Table):
    """One centre's report for one period: its draft or submitted values and review state.

    ``status``: draft → submitted → (endorsed by the regiment →) approved, or returned (and
    then submitted again).  Written by the centre, and by its reviewers (casework rows).
    """

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    period = ForeignKey(
        ReportPeriod, on_delete=OnDelete.restrict, index=True, db_column_name="period_id"
    )
    form = ForeignKey(ReportForm, on_delete=OnDelete.restrict, db_column_name="form_id")
    month = Integer()
    status = Varchar(length=16, default="draft")
    values = JSON(default={})  # field key → the text as entered (normalised)
    sources = JSON(default={})  # field key → {"value": …, "at": iso} pre-filled from cases
    corrections = JSON(default={})  # field key → the centre's note where it changed a source
    comments = JSON(default={})  # warning rule key → the centre's explanation
    revision = Integer(default=0)  # how many times it was submitted
    first_submitted_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    on_time = Boolean(null=True, default=None)  # the first submission was by the due day
    return_reason = Text(default="")  # the latest return's reason (shown to the centre)
    reviewed_at = Timestamptz(null=True, default=None)
    saved_at = Timestamptz(default=TimestamptzNow())
    saved_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="saved_by_id"
    )
    lock_version = Integer(default=0)  # optimistic concurrency: bumped by every write


@tenant_owned("casework")
class SubmissionEvent(Table):
    """A submission's history: created, submitted (with the values then), endorsed,
    approved, returned (with the reason), exception granted."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    submission = ForeignKey(
        Submission, on_delete=OnDelete.restrict, index=True, db_column_name="submission_id"
    )
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, db_column_name="actor_id")
    actor_name = Varchar(length=64, default="")
    action = Varchar(length=16)  # submitted | endorsed | approved | returned
    revision = Integer(default=0)
    note = Text(default="")
    data = JSON(default={})  # submitted: {"values", "corrections", "comments"}


@tenant_owned("supervisory")
class ReportException(Table):
    """The division lets one centre file or change a locked period until ``until``."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    period = ForeignKey(
        ReportPeriod, on_delete=OnDelete.restrict, index=True, db_column_name="period_id"
    )
    reason = Text()
    until = Date()
    granted_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="granted_by_id"
    )
    granted_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework")
@indexed(("form_id", "field", "month", "tenant_id"))
class ReportValue(Table):
    """One numeric field of a submitted report (what the roll-up sums).  Replaced by the
    centre at each submission; a reviewer's return sets ``counted`` false (casework rows
    can be updated, not deleted, by a supervisor)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    submission = ForeignKey(
        Submission, on_delete=OnDelete.restrict, index=True, db_column_name="submission_id"
    )
    form = ForeignKey(ReportForm, on_delete=OnDelete.restrict, db_column_name="form_id")
    month = Integer()
    field = Varchar(length=40)
    value = Numeric(digits=(18, 4))
    counted = Boolean(default=True)  # False while the submission is returned


@tenant_owned("operational", unique=[("tenant_id", "period_id", "kind")])
class ReportReminder(Table):
    """A reminder sent to a centre for a period (``kind`` = before | due): at most once."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    period = ForeignKey(
        ReportPeriod, on_delete=OnDelete.restrict, index=True, db_column_name="period_id"
    )
    kind = Varchar(length=8)
    sent_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("operational")
class ExportJob(Table):
    """A requested .xlsx export, built by a job; its file is kept in storage when done."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    kind = Varchar(length=16)  # rollup | submission
    params = JSON(default={})
    status = Varchar(length=16, default="queued")  # queued | running | done | failed
    done = Integer(default=0)  # progress: rows written
    total = Integer(default=0)
    file = ForeignKey(StoredFile, on_delete=OnDelete.set_null, null=True, db_column_name="file_id")
    filename = Varchar(length=200, default="")
    error = Text(default="")
    requested_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="requested_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
