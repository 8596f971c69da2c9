"""One row per (sweep, slot): a periodic sweep claims its slot before acting."""

from __future__ import annotations

from piccolo.columns import Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.schema import unique_together


@unique_together(("sweep", "slot"))
class SweepRun(Table):
    """A claimed slot: a second scheduler, or a re-sent message, finds it taken."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    sweep = Varchar(length=64)
    slot = Varchar(length=32)
    claimed_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
