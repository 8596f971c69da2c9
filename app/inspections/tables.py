"""Checklists (the division's, versioned), inspections of a centre, their photos and
findings, and the random draws (双随机) that pick centres, inspectors or cases.

A checklist version's ``definition`` is one JSON document (sections → items with guidance,
maximum score and whether a photo is required), validated by
:mod:`app.inspections.definition`; an inspection keeps the version it was started with.

An inspection belongs to the centre it inspects (``tenant_id``): the division's inspectors
write it under their supervise ids (class ``casework``), the centre's manager acknowledges
it under the centre's own.  ``client_key`` is the idempotency key the phone generates when
it starts an inspection, so a start or a submission sent twice (the signal dropped and the
browser resent it) finds the same row instead of creating another.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
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
from app.cases.tables import Rectification
from app.schema import indexed, tenant_owned
from app.storage.tables import StoredFile
from app.tenancy.tables import Tenant


@tenant_owned("shared", unique=[("tenant_id", "code")])
class Checklist(Table):
    """A checklist the division defines once: the centre checklist (硬件设施, 日常管理,
    运行机制, 服务延伸) or the staff-discipline one (七个不准)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    code = Varchar(length=32)
    title = Varchar(length=200)
    kind = Varchar(length=16, default="centre")  # centre | discipline
    current_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)  # no new inspections after this


@tenant_owned("shared", unique=[("tenant_id", "checklist_id", "number")])
class ChecklistVersion(Table):
    """One version of a checklist; never changed once saved (an inspection may point at it)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    checklist = ForeignKey(
        Checklist, on_delete=OnDelete.restrict, index=True, db_column_name="checklist_id"
    )
    number = Integer()
    effective_from = Date()
    definition = JSON()  # see app.inspections.definition
    max_score = Numeric(digits=(8, 2))  # the sum of the items' maximum scores
    change_note = Text(default="")
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("supervisory")
@indexed(("tenant_id", "month"))
class Draw(Table):
    """A random draw (双随机), reproducible from its recorded seed.

    ``kind`` ``centres``: centres and inspectors for a month (``tenant_id`` = the drawing
    division); ``cases``: concluded cases of one centre for a file review (``tenant_id`` = that
    centre).  ``pool`` holds the sorted candidate ids the draw chose from, ``result`` what it
    chose; drawing again from the same seed and pool gives the same result.
    """

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    kind = Varchar(length=16)  # centres | cases
    month = Integer()  # yyyymm the draw is for
    seed = Varchar(length=64)
    params = JSON(default={})  # counts asked for, filters (e.g. the concluded-date range)
    pool = JSON(default={})  # {"centres": [...], "inspectors": [...]} or {"cases": [...]}
    result = JSON(default={})
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework", unique=[("tenant_id", "client_key")])
@indexed(("tenant_id", "planned_on"))
class Inspection(Table):
    """One inspection of one centre against one checklist version.

    ``state``: planned → in_progress → submitted → acknowledged.  ``answers`` maps an item
    key to ``{"score": "8.5", "note": "…"}`` (scores as decimal strings); ``score``,
    ``max_score`` and ``percent`` are stored at submission.  ``lock_version`` rises with
    every save (a stale autosave from another phone is refused, never merged blindly).
    """

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    checklist = ForeignKey(
        Checklist, on_delete=OnDelete.restrict, index=True, db_column_name="checklist_id"
    )
    version = ForeignKey(
        ChecklistVersion, on_delete=OnDelete.restrict, index=True, db_column_name="version_id"
    )
    origin = Varchar(length=16, default="planned")  # planned | spot | drawn
    draw = ForeignKey(
        Draw, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="draw_id"
    )
    client_key = Varchar(length=64)  # idempotency key of the start (a UUID from the phone)
    planned_on = Date()
    inspectors = JSON(default=[])  # user ids of the inspectors
    lead = ForeignKey(User, on_delete=OnDelete.restrict, index=True, db_column_name="lead_id")
    state = Varchar(length=16, default="planned", index=True)
    answers = JSON(default={})
    summary = Text(default="")  # overall findings text
    score = Numeric(digits=(8, 2), null=True, default=None)
    max_score = Numeric(digits=(8, 2), null=True, default=None)
    percent = Numeric(digits=(5, 2), null=True, default=None)
    lock_version = Integer(default=1)
    started_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None, index=True)
    submitted_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="submitted_by_id"
    )
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="acknowledged_by_id"
    )
    acknowledge_note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("supervisory", unique=[("tenant_id", "client_key")])
class InspectionPhoto(Table):
    """A photo taken for one item of an inspection (``client_key`` dedupes a resent upload)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    inspection = ForeignKey(
        Inspection, on_delete=OnDelete.restrict, index=True, db_column_name="inspection_id"
    )
    item_key = Varchar(length=32)
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, db_column_name="file_id")
    client_key = Varchar(length=64)
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("supervisory", unique=[("tenant_id", "inspection_id", "position")])
class Finding(Table):
    """A finding of a submitted inspection; each opens a rectification-ledger item."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    inspection = ForeignKey(
        Inspection, on_delete=OnDelete.restrict, index=True, db_column_name="inspection_id"
    )
    position = Integer()
    item_key = Varchar(length=32, default="")  # the checklist item it concerns ('' = general)
    text = Text()
    due_days = Integer(default=5)  # working days the centre has to rectify
    rectification = ForeignKey(
        Rectification,
        on_delete=OnDelete.restrict,
        null=True,
        index=True,
        db_column_name="rectification_id",
    )
    created_at = Timestamptz(default=TimestamptzNow())
