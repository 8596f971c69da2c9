"""Daily window work logs (工作日志) and the division's assessment scheme (绩效考核).

``WorkLog``: one per window per working day of a centre (operational: written and reviewed
by the centre itself; supervisors of the subtree read it).  ``staff`` holds one entry per
person on duty: ``{"user_id", "name", "post" (A | B | ""), "attendance", "note"}`` with
attendance present | late | leave | absent | trip.  ``registered``/``accepted``/``concluded``
are the platform's counts of that window's cases that local day, recounted at every save;
``offline`` is what the window handled outside the platform (entered by the clerk).  A
reviewed log (``reviewed_at`` set) is read-only.

``AssessmentScheme``: one per division (shared definition).  ``versions`` is a list of
``{"number", "from_month", "components": [{"key", "label", "applies", "expression",
"weight"}], "note", "saved_at", "saved_by"}``; see :mod:`app.staff.scheme`.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.schema import indexed, tenant_owned
from app.tenancy.tables import Tenant, Window


@tenant_owned("operational", unique=[("tenant_id", "window_id", "day")])
@indexed(("tenant_id", "day"))
class WorkLog(Table):
    """One window's log of one working day (工作日志)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    window = ForeignKey(Window, on_delete=OnDelete.restrict, index=True, db_column_name="window_id")
    day = Date()
    staff = JSON(default=[])
    style_notes = Text(default="")  # 工作作风
    discipline_notes = Text(default="")  # 工作纪律
    note = Text(default="")
    registered = Integer(default=0)  # platform: cases registered at the window that day
    accepted = Integer(default=0)
    concluded = Integer(default=0)
    offline = Integer(default=0)  # handled outside the platform (entered)
    written_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="written_by_id"
    )
    written_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="reviewed_by_id"
    )
    review_comment = Text(default="")
    lock_version = Integer(default=0)


@tenant_owned("shared", unique=[("tenant_id",)])
class AssessmentScheme(Table):
    """A division's assessment rules (绩效考核实施细则), versioned in ``versions``."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    current_version = Integer(default=1)
    versions = JSON(default=[])
    updated_at = Timestamptz(default=TimestamptzNow())
    lock_version = Integer(default=0)
