"""The supervision view (电子监察): the yellow margin N a division (or regiment) sets for
its subtree, and the light notices sent (one per case, light and due moment).

``LightNotice`` is written in the same transaction as the inbox notices it records; its
unique key makes a second sweep (or a second scheduler) send nothing twice.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.cases.tables import Case
from app.schema import tenant_owned
from app.tenancy.tables import Tenant


@tenant_owned("shared", unique=[("tenant_id",)])
class SupervisionSetting(Table):
    """N (黄灯提前量): the working days before the promised date a case turns yellow, set
    by a division or regiment for its whole subtree (the nearest setting wins)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    yellow_days = Integer(default=2)
    note = Text(default="")
    updated_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="updated_by_id"
    )
    updated_at = Timestamptz(default=TimestamptzNow())
    lock_version = Integer(default=0)


@tenant_owned("operational", unique=[("tenant_id", "case_id", "light", "due_at")])
class LightNotice(Table):
    """A yellow or red light of one case (at one due moment) notified to its owner and the
    centre's managers: at most once."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True, db_column_name="case_id")
    light = Varchar(length=8)  # yellow | red
    due_at = Timestamptz()  # the promised due moment the light refers to
    recipients = Integer(default=0)
    sent_at = Timestamptz(default=TimestamptzNow())
