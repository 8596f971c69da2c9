"""The case desk (办件): cases, their materials and timeline, documents, counters, seals,
ratings and the rectification ledger.

``Case`` keeps the deadline columns DESIGN.md asks for (``promised_due_at``,
``legal_due_at``, ``light``, ``legal_exceeded``, ``light_changes_at``): they are recomputed
from the timeline (``CaseEvent``) by :mod:`app.cases.deadlines` in the same transaction as
every event, by the light sweep and by the calendar-change job.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.cases.workflow import OPEN
from app.catalogue.tables import ItemTemplate, ItemVersion, TenantItem
from app.schema import expression_indexed, indexed, tenant_owned
from app.storage.tables import StoredFile
from app.tenancy.tables import Tenant, Window


@tenant_owned("operational", unique=[("tenant_id", "series", "year")])
class CaseCounter(Table):
    """The last number handed out per centre, series (case, notice, …) and year: gap-free."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    series = Varchar(length=16)
    year = Integer()
    value = Integer(default=0)


@tenant_owned("casework", unique=[("tenant_id", "number")])
@indexed(("tenant_id", "registered_at"), ("tenant_id", "concluded_at"))
@expression_indexed(
    # The case lists' order (queries/lists.py ORDER: urgent, red, yellow, due date, newest):
    # a page of one centre is read off the index instead of sorting all its cases.
    (
        "ix_service_case_list_order",
        "tenant_id, (CASE WHEN urgent THEN 0 ELSE 1 END),"
        " (CASE light WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END),"
        " (CASE WHEN promised_due_at IS NULL THEN 1 ELSE 0 END), promised_due_at, id DESC",
        "",
    ),
    # Supervision: open cases counted by light (the states are workflow.OPEN).
    (
        "ix_service_case_open_lights",
        "tenant_id, light, legal_exceeded",
        f"state IN ({', '.join(repr(s) for s in sorted(OPEN))})",
    ),
    # The item filter's choices (DISTINCT item_code, item_name of a centre): index only.
    ("ix_service_case_items", "tenant_id, item_code, item_name", ""),
)
class Case(Table, tablename="service_case"):
    """One application (办件) at one centre, from registration to delivery."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    number = Varchar(length=40)  # R63-2026-000123
    year = Integer()
    seq = Integer()
    # The item, and the version whose content the case keeps (versions never change).
    tenant_item = ForeignKey(
        TenantItem, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_item_id"
    )
    template = ForeignKey(
        ItemTemplate, on_delete=OnDelete.restrict, index=True, db_column_name="template_id"
    )
    version = ForeignKey(
        ItemVersion, on_delete=OnDelete.restrict, index=True, db_column_name="version_id"
    )
    item_code = Varchar(length=32)
    item_name = Varchar(length=120)
    kind = Varchar(length=16)  # immediate | promised | joint | escalated (from the version)
    promised_halves = Integer()  # the centre's promise at registration
    legal_halves = Integer()
    # Applicant (personal data: masked in lists, unmasked reads are audited).
    applicant_kind = Varchar(length=16)  # person | organisation
    applicant_name = Varchar(length=120)
    id_kind = Varchar(length=16)  # resident_id | credit_code
    id_number = Varchar(length=18)
    id_hash = Varchar(length=64, index=True)  # keyed hash: the only way IDs are searched
    phone = Varchar(length=32, default="")
    contact_address = Varchar(length=200, default="")
    channel = Varchar(length=16)  # window | online | phone | regiment
    window = ForeignKey(
        Window, on_delete=OnDelete.set_null, null=True, index=True, db_column_name="window_id"
    )
    owner = ForeignKey(  # 首问负责: the registering clerk (changed only by a hand-over)
        User, on_delete=OnDelete.restrict, index=True, db_column_name="owner_id"
    )
    queue_tenant = ForeignKey(  # whose queue the case waits in (the parent for escalated)
        Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="queue_tenant_id"
    )
    state = Varchar(length=16, index=True)
    urgent = Boolean(default=False)
    green_channel = Boolean(default=False)
    lookup_code = Varchar(length=8)
    note = Text(default="")
    registered_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    concluded_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    closed_reason = Text(default="")  # refusal / return reason shown to the applicant
    decision = Varchar(length=16, default="")  # approved | denied
    # Deadlines (stored; see app.cases.deadlines).
    promised_due_at = Timestamptz(null=True, default=None, index=True)
    legal_due_at = Timestamptz(null=True, default=None)
    due_provisional = Boolean(default=False)  # promised date counted on plain weekdays
    legal_provisional = Boolean(default=False)  # legal date counted on plain weekdays
    paused = Boolean(default=False)
    extended_halves = Integer(default=0)
    light = Varchar(length=8, default="", index=True)  # green | yellow | red | '' (no clock)
    legal_exceeded = Boolean(default=False)
    light_changes_at = Timestamptz(null=True, default=None, index=True)
    on_time = Boolean(null=True, default=None)  # set at conclusion
    notices = Integer(default=0)  # one-time notices issued
    # Delivery (送达).
    delivery_method = Varchar(length=16, default="")  # window | post | electronic
    delivery_recipient = Varchar(length=120, default="")
    delivery_note = Text(default="")
    delivered_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="delivered_by_id"
    )
    rated = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework")
@indexed(("tenant_id", "at"))
class CaseEvent(Table):
    """The case timeline: who did what, when, with a note (append-only by convention)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="actor_id"
    )  # None: the applicant (rating) or the system
    actor_name = Varchar(length=64, default="")
    action = Varchar(length=24)
    state = Varchar(length=16, default="")  # the state after the event
    note = Text(default="")
    data = JSON(default={})


@tenant_owned("casework", unique=[("tenant_id", "case_id", "position")])
class CaseMaterial(Table):
    """One material line of the snapshot, as received at the window."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    position = Integer()  # index into the version's materials
    name = Varchar(length=120)
    requirement = Varchar(length=16, default="required")
    status = Varchar(length=16, default="missing")  # received | missing | defective | waived
    problem = Text(default="")  # what is wrong with a defective one
    received_at = Timestamptz(null=True, default=None)


@tenant_owned("casework")
class CaseFile(Table):
    """An uploaded scan or photo of a material (files live in storage, domain ``cases``)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    material = ForeignKey(
        CaseMaterial, on_delete=OnDelete.restrict, null=True, db_column_name="material_id"
    )
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, db_column_name="file_id")
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict, db_column_name="uploaded_by_id")
    uploaded_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework", unique=[("tenant_id", "kind", "number")])
class CaseDocument(Table):
    """A numbered paper: one-time notice, refusal notice, approval or denial decision.

    ``body`` is the snapshot of what was printed (materials listed, basis, deadline, names)
    so a reprint shows the same paper.
    """

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    kind = Varchar(length=16)  # notice | refusal | approval | denial
    number = Varchar(length=48)
    body = JSON(default={})
    issued_by = ForeignKey(User, on_delete=OnDelete.restrict, db_column_name="issued_by_id")
    issued_by_name = Varchar(length=64, default="")
    issued_at = Timestamptz(default=TimestamptzNow())
    reason = Text(default="")  # for a second notice: the new fact that made it necessary


@tenant_owned("operational", unique=[("tenant_id", "name")])
class Seal(Table):
    """An approval seal (审批专用章) a centre keeps."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    name = Varchar(length=120)
    keeper = Varchar(length=64, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework")
class SealUsage(Table):
    """The seal ledger (用印台账): which seal went on which document of which case."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    seal = ForeignKey(Seal, on_delete=OnDelete.restrict, index=True, db_column_name="seal_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    document = ForeignKey(CaseDocument, on_delete=OnDelete.restrict, db_column_name="document_id")
    used_by = ForeignKey(User, on_delete=OnDelete.restrict, db_column_name="used_by_id")
    used_by_name = Varchar(length=64, default="")
    used_at = Timestamptz(default=TimestamptzNow(), index=True)


@tenant_owned("casework", unique=[("tenant_id", "case_id")])
@indexed(("tenant_id", "rated_at"))
class Rating(Table):
    """The applicant's one rating (好差评) of a concluded case."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    level = Integer()  # 5 非常满意 … 1 非常不满意
    reasons = JSON(default=[])  # GB/T 39734 reason codes for a low rating
    comment = Text(default="")
    channel = Varchar(length=16, default="lookup")  # lookup | receipt (QR)
    rated_at = Timestamptz(default=TimestamptzNow(), index=True)


@tenant_owned("casework")
class Rectification(Table):
    """The rectification ledger (整改台账): one table for every source.

    Sources: ``rating`` (a rating of 不满意 or worse), later ``finding`` (inspections) and
    ``supervision`` (督办).  Steps: verify → fix → call back → outcome.
    """

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    source = Varchar(length=16)  # rating | finding | supervision
    source_id = Integer(null=True, default=None)
    case = ForeignKey(
        Case, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="case_id"
    )
    title = Varchar(length=200)
    detail = Text(default="")
    owner = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="owner_id"
    )
    state = Varchar(length=16, default="open", index=True)  # open|verified|fixed|called_back|closed
    opened_at = Timestamptz(default=TimestamptzNow())
    due_at = Timestamptz()
    extended = Boolean(default=False)
    extension_reason = Text(default="")
    verify_note = Text(default="")
    verified_at = Timestamptz(null=True, default=None)
    fix_note = Text(default="")
    fixed_at = Timestamptz(null=True, default=None)
    callback_note = Text(default="")
    called_back_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="")  # resolved | unresolved
    outcome_note = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework")
@indexed(("tenant_id", "rectification_id"))
class RectificationStep(Table):
    """The history of a ledger item worked the inspection way (finding / 督办): every
    opening, answer by the centre, verification by the inspector (accepted / rejected with a
    reason) and extension, in order.  The item row keeps only the latest state; this keeps
    every round, so a rejected answer and the reason stay visible after the centre answers
    again.  Written by the centre (answers) or its supervisors (verifications)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    rectification = ForeignKey(
        Rectification, on_delete=OnDelete.restrict, db_column_name="rectification_id"
    )
    kind = Varchar(length=16)  # opened | answer | accept | reject | extend
    note = Text(default="")
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, db_column_name="actor_id")
    at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework")
@indexed(("tenant_id", "rectification_id"))
class RectificationEvidence(Table):
    """A file the centre uploaded as evidence of a rectification (photo, PDF), with the
    answer (``step``) it came with.  Served only after the ledger's scope check."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    rectification = ForeignKey(
        Rectification, on_delete=OnDelete.restrict, db_column_name="rectification_id"
    )
    step = ForeignKey(
        RectificationStep, on_delete=OnDelete.restrict, null=True, db_column_name="step_id"
    )
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, db_column_name="file_id")
    note = Text(default="")
    uploaded_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="uploaded_by_id"
    )
    at = Timestamptz(default=TimestamptzNow())


@tenant_owned("operational")
class TrackAttempt(Table):
    """A public lookup attempt: limits guessing per address and per case number."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    ip = Varchar(length=64, index=True)
    number = Varchar(length=40, index=True)
    ok = Boolean(default=False)
    at = Timestamptz(default=TimestamptzNow(), index=True)


@tenant_owned("operational", unique=[("tenant_id", "month")])
class CaseMonthStat(Table):
    """One centre's case figures for one local month (``month`` = yyyymm), kept current by
    the ``cases.stats`` sweep from the months marked in ``StatDirty`` (see app.metrics)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    month = Integer()
    registered = Integer(default=0)
    immediate = Integer(default=0)
    promised = Integer(default=0)
    joint = Integer(default=0)
    escalated = Integer(default=0)
    urgent = Integer(default=0)
    supplemented = Integer(default=0)  # registered this month and given a one-time notice
    accepted = Integer(default=0)
    notices = Integer(default=0)
    refused = Integer(default=0)
    returned = Integer(default=0)
    concluded = Integer(default=0)
    on_time = Integer(default=0)
    late = Integer(default=0)
    unrated = Integer(default=0)  # concluded this month and not (yet) rated
    rated = Integer(default=0)
    level_5 = Integer(default=0)
    level_4 = Integer(default=0)
    level_3 = Integer(default=0)
    level_2 = Integer(default=0)
    level_1 = Integer(default=0)
    computed_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("casework", unique=[("tenant_id", "month")])
class StatDirty(Table):
    """A centre-month whose figures changed: the stats sweep recomputes and clears it."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    month = Integer()
    marked_at = Timestamptz(default=TimestamptzNow())
