"""One row per (sweep, slot): a periodic sweep claims its slot before acting."""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.schema import unique_together


@unique_together(("sweep", "slot"))
class SweepRun(Table):
    """A claimed slot: a second scheduler, or a re-sent message, finds it taken.

    ``holder`` renews ``claimed_at`` while it runs; an unfinished claim silent for longer
    than the sweep's lease is taken over (``attempts`` counts the holders)."""

    id: Serial  # the plain primary key Piccolo adds (declared for the type checker)

    sweep = Varchar(length=64)
    slot = Varchar(length=32)
    claimed_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    holder = Varchar(length=32, default="")
    attempts = Integer(default=1)
