"""Users, their memberships in centres, sessions, one-time links and the audit log."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.schema import tenant_owned
from app.tenancy.tables import Department, Tenant, Window


class User(Table, tablename="app_user"):
    """A person who logs in.  No password until they set one through a one-time link."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=64)
    phone = Varchar(length=32, default="")
    locale = Varchar(length=16, default="")
    password_hash = Varchar(length=255, null=True, default=None)
    is_platform_admin = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(null=True, default=None)


@tenant_owned("membership", unique=[("tenant_id", "user_id")])
class Membership(Table):
    """A user's place in one centre: roles (comma-separated) and whether it is active."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True, db_column_name="user_id")
    roles = Varchar(length=100)
    title = Varchar(length=64, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("operational", unique=[("tenant_id", "membership_id", "department_id")])
class MembershipDepartment(Table):
    """Department membership (a 联办 sign-off comes from a member of that department)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    membership = ForeignKey(
        Membership, on_delete=OnDelete.cascade, index=True, db_column_name="membership_id"
    )
    department = ForeignKey(
        Department, on_delete=OnDelete.restrict, index=True, db_column_name="department_id"
    )


@tenant_owned("operational", unique=[("tenant_id", "window_id", "post")])
class WindowPost(Table):
    """Who holds the A post and the B post (AB岗) of a window."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    window = ForeignKey(Window, on_delete=OnDelete.cascade, index=True, db_column_name="window_id")
    post = Varchar(length=1)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True, db_column_name="user_id")


class WebSession(Table):
    """Server-side session: the cookie holds a random id, the row holds its SHA-256."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(
        User, on_delete=OnDelete.cascade, null=True, index=True, db_column_name="user_id"
    )
    csrf_token = Varchar(length=64)
    ip = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen = Timestamptz(default=TimestamptzNow())


class LoginFailure(Table):
    """A failed login, counted per account *and* address for the lockout."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    username = Varchar(length=64, index=True)
    ip = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class PasswordToken(Table):
    """A one-time set-password link (its SHA-256; the token itself is only printed)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")
    created_by = ForeignKey(
        User, on_delete=OnDelete.set_null, null=True, db_column_name="created_by_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


@tenant_owned("audit")
class AuditLog(Table):
    """Append-only: the app role may insert and read, never update or delete."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(
        Tenant, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="tenant_id"
    )
    actor = ForeignKey(
        User, on_delete=OnDelete.restrict, null=True, index=True, db_column_name="actor_id"
    )
    actor_name = Varchar(length=64, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=32, default="")
    object_id = Varchar(length=64, default="")
    detail = JSON(default={})
    ip = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)
    note = Text(default="")
