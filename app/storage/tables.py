"""One row per stored file: where it lives, what it is, and the digest it must still match."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.schema import tenant_owned
from app.tenancy.tables import Tenant


@tenant_owned("casework", unique=[("tenant_id", "storage_key")])
class StoredFile(Table):
    """A file of one centre.  ``filename`` is for display only, never a path.

    Class ``casework``: the division's inspectors store inspection photos and verification
    evidence on the centre they inspect (under their supervise ids)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    domain = Varchar(length=32)
    storage_key = Varchar(length=255)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    sha256 = Varchar(length=64)
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
