"""Each centre's documents: its rules compilation (制度汇编) and the window authorisation
letters (授权书) departments grant it, with their validity dates.

A ``Document`` is an *operational* row of the centre (``tenant_id``): its managers upload,
replace and retire them; its supervisors read them (and see which departments of the
centre's adopted items lack a currently valid letter — ``app.documents.gaps``).
"""

from __future__ import annotations

from piccolo.columns import (
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.schema import indexed, tenant_owned
from app.storage.tables import StoredFile
from app.tenancy.tables import Department, Tenant, Window


@tenant_owned("operational")
@indexed(("tenant_id", "kind"))
class Document(Table):
    """``kind`` ``rules`` (制度汇编: title, edition) or ``authorisation`` (授权书: department,
    optional window, granted by, valid from / until).  ``retired_at`` set = no longer in force
    (kept for the record)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    kind = Varchar(length=16)
    title = Varchar(length=200)
    edition = Varchar(length=40, default="")  # version or year of a rules compilation
    department = ForeignKey(
        Department,
        on_delete=OnDelete.restrict,
        null=True,
        index=True,
        db_column_name="department_id",
    )
    window = ForeignKey(Window, on_delete=OnDelete.set_null, null=True, db_column_name="window_id")
    granted_by = Varchar(length=120, default="")
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)  # None: no end date
    file = ForeignKey(StoredFile, on_delete=OnDelete.restrict, db_column_name="file_id")
    retired_at = Timestamptz(null=True, default=None)
    lock_version = Integer(default=1)
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="updated_by_id"
    )
    updated_at = Timestamptz(default=TimestamptzNow())
