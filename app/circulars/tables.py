"""Circulars (通报): the issuing tenant's text and attachments, one receipt per recipient.

Design (issue 7): a ``Circular`` is a *shared* row of the issuing division (or regiment),
like its other definitions, so the row-level-security policy lets every tenant below it
read the text.  Being below the issuer is not enough to see a circular, though: the
application only shows one to a centre through its ``CircularRecipient`` row (class
``casework``, ``tenant_id`` = the recipient centre; the issuer inserts it under its
supervise ids, the centre's manager acknowledges on it under the centre's own write ids).
Every query a centre uses to reach a circular joins its own receipt, so a centre that was
not addressed gets 404, exactly like a missing circular.

``linked`` is the snapshot of the results a circular links to, taken when it is issued
(an inspection's centre, date, score and findings count, or the ranked league table of a
month): issuing is final, every recipient sees what was circulated, and no recipient needs
to read another centre's inspection rows.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
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
from app.schema import indexed, tenant_owned
from app.storage.tables import StoredFile
from app.tenancy.tables import Tenant


@tenant_owned("shared")
@indexed(("tenant_id", "issued_at"))
class Circular(Table):
    """One issued circular; never changed once issued."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    title = Varchar(length=200)
    body = Text(default="")  # plain text, paragraphs separated by blank lines
    link = Varchar(length=40, default="")  # "" | "inspection:<id>" | "league:<yyyy-mm>"
    linked = JSON(default={})  # snapshot of the linked results at issue time
    recipient_count = Integer(default=0)
    issued_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="issued_by_id"
    )
    issued_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("shared", unique=[("tenant_id", "circular_id", "position")])
class CircularAttachment(Table):
    """A file attached to a circular (stored on the issuing tenant)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    circular = ForeignKey(
        Circular, on_delete=OnDelete.restrict, index=True, db_column_name="circular_id"
    )
    position = Integer(default=0)
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, db_column_name="file_id")


@tenant_owned("casework", unique=[("tenant_id", "circular_id")])
class CircularRecipient(Table):
    """The read receipt of one recipient centre (``tenant_id``) for one circular."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    circular = ForeignKey(
        Circular, on_delete=OnDelete.restrict, index=True, db_column_name="circular_id"
    )
    issuer = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="issuer_id")
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="acknowledged_by_id"
    )
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
