"""The service catalogue: division-owned item templates with versions, centres' adoptions,
and published editions of the power list (权力清单)."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
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
from app.tenancy.tables import Department, Tenant, Window


@tenant_owned("shared", unique=[("tenant_id", "code")])
class ItemTemplate(Table):
    """A service item (事项) owned by the division; its content lives in versions."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    code = Varchar(length=32)  # 基本编码 (GB/T 39554.1 style), stable across versions
    department = ForeignKey(
        Department, on_delete=OnDelete.restrict, index=True, db_column_name="department_id"
    )
    current_version = Integer(default=1)  # the number of the newest version in force
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)  # retiring stops new intake only
    retired_note = Text(default="")


@tenant_owned("shared", unique=[("tenant_id", "template_id", "number")])
class ItemVersion(Table):
    """One version of an item's content; old versions stay readable, cases snapshot one."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    template = ForeignKey(
        ItemTemplate, on_delete=OnDelete.restrict, index=True, db_column_name="template_id"
    )
    number = Integer()
    effective_from = Date()
    mandatory = Boolean(default=False)  # applies itself to adopting centres on effective_from
    change_note = Text(default="")
    content = JSON()  # every field of the item; see app.catalogue.content
    created_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("operational", unique=[("tenant_id", "template_id")])
class TenantItem(Table):
    """A centre's adoption of a template: which version, window, local limit and notes."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    template = ForeignKey(
        ItemTemplate, on_delete=OnDelete.restrict, index=True, db_column_name="template_id"
    )
    version = ForeignKey(
        ItemVersion, on_delete=OnDelete.restrict, index=True, db_column_name="version_id"
    )
    window = ForeignKey(
        Window, on_delete=OnDelete.set_null, null=True, index=True, db_column_name="window_id"
    )
    promised_halves = Integer(null=True, default=None)  # tighter than the template's, or None
    local_note = Text(default="")
    active = Boolean(default=True)
    adopted_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("shared", unique=[("tenant_id", "number")])
class PowerListEdition(Table):
    """A published, numbered and dated power list (权力清单) of a division."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    number = Integer()
    published_on = Date()
    title = Varchar(length=200)
    entries = JSON()  # [{code, name, power_type, legal_basis, implementing_body, department}]
    published_by = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, db_column_name="published_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
