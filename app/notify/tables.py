"""The in-app inbox, each centre's group-robot channel and its outbound messages."""

from __future__ import annotations

from piccolo.columns import (
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
from app.schema import tenant_owned
from app.tenancy.tables import Tenant


@tenant_owned("personal")
class InboxItem(Table):
    """One message in one person's inbox, about something in one centre."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")
    kind = Varchar(length=40)
    title = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    read_at = Timestamptz(null=True, default=None)


@tenant_owned("operational", unique=[("tenant_id",)])
class Channel(Table):
    """A centre's group-robot webhook (WeCom / DingTalk style JSON POST)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    kind = Varchar(length=16, default="wecom")
    url = Varchar(length=500)
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_ok_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    last_error_at = Timestamptz(null=True, default=None)
    failures = Integer(default=0)


@tenant_owned("operational")
class Outbound(Table):
    """One message for a channel: pending → sent, held (outside service hours) or failed."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    channel = ForeignKey(
        Channel, on_delete=OnDelete.cascade, index=True, db_column_name="channel_id"
    )
    text = Text()
    urgent = Boolean(default=False)
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
