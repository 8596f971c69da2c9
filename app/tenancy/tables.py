"""Tenants (service centres), the division-wide department list and each centre's windows."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.schema import tenant_owned

KINDS = ("division", "regiment", "community")
STATUSES = ("pilot", "active", "suspended")


class Tenant(Table):
    """One service centre.  A tree: division → regiments → communities."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    slug = Varchar(length=63, unique=True, index=True)
    name = Varchar(length=120)
    kind = Varchar(length=16)
    parent: ForeignKey[Tenant] = ForeignKey(
        "self", on_delete=OnDelete.restrict, null=True, index=True, db_column_name="parent_id"
    )
    status = Varchar(length=16, default="pilot")
    hours = JSON(default={})
    address = Varchar(length=200, default="")
    phone = Varchar(length=40, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("shared", unique=[("tenant_id", "code")])
class Department(Table):
    """A department (部门); the list is owned by the division and shared with every centre."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    code = Varchar(length=32)
    name = Varchar(length=120)
    short_name = Varchar(length=40)
    sort = Integer(default=0)


@tenant_owned("operational", unique=[("tenant_id", "code")])
class Window(Table, tablename="service_window"):
    """A counter (窗口) of one centre, staffed by an A post and a B post (AB岗)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    code = Varchar(length=32)
    name = Varchar(length=120)
    note = Text(default="")
    sort = Integer(default=0)


@tenant_owned("operational", unique=[("tenant_id", "window_id", "department_id")])
class WindowDepartment(Table):
    """Which departments a window serves."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    window = ForeignKey(Window, on_delete=OnDelete.cascade, index=True, db_column_name="window_id")
    department = ForeignKey(
        Department, on_delete=OnDelete.restrict, index=True, db_column_name="department_id"
    )
