"""Calendar data: national days and published years (platform-wide), regional days (shared).

A national day or a year is not tenant-owned: the State Council's notice is the same for
every centre.  A regional day is owned by a division and applies to its whole subtree.
"""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.schema import tenant_owned
from app.tenancy.tables import Tenant

KINDS = ("off", "work")  # a day off, or a make-up working day (调休上班)


class NationalDay(Table):
    """One day of a State Council holiday notice: ``off`` or ``work`` (make-up working day)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    day = Date(unique=True, index=True)
    kind = Varchar(length=8)
    name = Varchar(length=60)
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarYear(Table):
    """A year whose national days are published (a row exists only once it is published)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    year = Integer(unique=True, index=True)
    notice = Varchar(length=200)
    published_at = Timestamptz(default=TimestamptzNow())


@tenant_owned("shared", unique=[("tenant_id", "day")])
class RegionalDay(Table):
    """A regional day off or working day (肉孜节, 古尔邦节…) set by a division for its subtree."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, index=True, db_column_name="tenant_id")
    day = Date(index=True)
    kind = Varchar(length=8)
    name = Varchar(length=60)
    updated_at = Timestamptz(default=TimestamptzNow())
