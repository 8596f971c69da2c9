"""The generated rows of a benchmark run, as plain tuples (None, bool, int, str) that both
loaders take: PostgreSQL COPY and SQLite ``executemany``.

Sizes: ``centres`` filing centres under the division (the manifests' r63, r68 and
c-huacheng count among them; the rest are generated: about one regiment in five, the
other communities mostly under a regiment), ``months`` months of the seed form ending last
month, ``cases`` cases spread over centres and months (regiments weigh twice a
community).  Everything is drawn from one seeded ``random.Random``: a run is repeatable.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SHANGHAI_OFFSET = 8 * 3600
DAY = 86400
# The tenants a generated world adds (slug prefix): never clashes with the manifests'.
REGIMENT, COMMUNITY = "bench-r", "bench-c"


@dataclass(frozen=True)
class Item:
    tenant_item_id: int
    template_id: int
    version_id: int
    code: str
    name: str
    kind: str
    promised_halves: int
    legal_halves: int


@dataclass(frozen=True)
class Centre:
    id: int
    slug: str
    kind: str
    parent_id: int | None


@dataclass
class World:
    """What the generators need from the migrated database."""

    division_id: int
    form_id: int
    version_id: int
    owner_id: int  # the user who registers every generated case
    months: list[int]  # yyyymm, oldest first, ending last month
    fields: list[tuple[str, str]]  # (key, type) of the form's numeric fields
    all_fields: list[tuple[str, str, str, str]]  # (key, type, source, first choice)
    centres: list[Centre] = field(default_factory=list)
    items: dict[int, list[Item]] = field(default_factory=dict)  # centre id → adopted items
    periods: dict[int, int] = field(default_factory=dict)  # month → period id
    skip: set[tuple[int, int]] = field(default_factory=set)  # (centre, month) left unfiled


def month_start(month: int) -> int:
    """UTC epoch seconds of the local (Asia/Shanghai) start of month ``yyyymm``."""
    year, mon = divmod(month, 100)
    return int(datetime(year, mon, 1, tzinfo=UTC).timestamp()) - SHANGHAI_OFFSET


def month_after(month: int) -> int:
    year, mon = divmod(month, 100)
    return (year + 1) * 100 + 1 if mon == 12 else month + 1


def months_ending(last: int, count: int) -> list[int]:
    out = [last]
    while len(out) < count:
        year, mon = divmod(out[-1], 100)
        out.append((year - 1) * 100 + 12 if mon == 1 else out[-1] - 1)
    return sorted(out)


class Clock:
    """Fast text timestamps (Piccolo's SQLite format, which PostgreSQL also reads)."""

    def __init__(self) -> None:
        self.days: dict[int, str] = {}
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00:00" for s in range(DAY)]

    def __call__(self, epoch: int | None) -> str | None:
        if epoch is None:
            return None
        day, sec = divmod(epoch, DAY)
        text = self.days.get(day)
        if text is None:
            text = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d ")
            self.days[day] = text
        return text + self.times[sec]


# --- tenants ------------------------------------------------------------------------------


def new_tenants(existing: int, centres: int) -> list[tuple[str, str, str, str | None]]:
    """(slug, name, kind, parent slug or None for the division) of the centres to add."""
    wanted = max(0, centres - existing)
    regiments = max(1, wanted // 5) if wanted else 0
    out: list[tuple[str, str, str, str | None]] = []
    for i in range(regiments):
        out.append((f"{REGIMENT}{i + 1:03d}", f"第{i + 101}团便民服务中心", "regiment", None))
    for i in range(wanted - regiments):
        parent = f"{REGIMENT}{i % regiments + 1:03d}" if i % 10 else None
        out.append((f"{COMMUNITY}{i + 1:04d}", f"社区便民服务中心{i + 1}", "community", parent))
    return out


def tenant_rows(
    planned: list[tuple[str, str, str, str | None]], ids: dict[str, int], division_id: int
) -> Iterator[tuple[Any, ...]]:
    """One kind at a time (parents first): slug, name, kind, parent_id, status, hours."""
    for slug, name, kind, parent in planned:
        parent_id = ids[parent] if parent else division_id
        hours = json.dumps({"summer": ["09:30", "13:30", "16:00", "20:00"]})
        yield (slug, name, kind, parent_id, "active", hours, f"{name}地址", "0999-8000000")


# --- periods, submissions and the roll-up values -----------------------------------------


def period_rows(world: World, tenant_id: int) -> Iterator[tuple[Any, ...]]:
    """tenant_id, form_id, version_id, month, due_on, lock_on, opened_at."""
    for month in world.months:
        year, mon = divmod(month_after(month), 100)
        yield (
            tenant_id,
            world.form_id,
            world.version_id,
            month,
            f"{year}-{mon:02d}-05",
            f"{year}-{mon:02d}-10",
            f"{year}-{mon:02d}-01 00:00:00+00:00",
        )


SUBMISSION_COLUMNS = (
    "id tenant_id period_id form_id month status values sources corrections comments revision"
    " first_submitted_at submitted_at on_time return_reason reviewed_at saved_at saved_by_id"
    " lock_version"
).split()
VALUE_COLUMNS = "tenant_id submission_id form_id month field value counted".split()

# (cumulative share, status): about 90 % filed (submitted, endorsed or approved).
STATUSES = (
    (0.05, None),
    (0.08, "draft"),
    (0.10, "returned"),
    (0.25, "submitted"),
    (0.35, "endorsed"),
    (1.0, "approved"),
)


def _value(rng: random.Random, kind: str, choice: str) -> str:
    if kind == "choice":
        return choice
    if kind == "yesno":
        return "yes" if rng.random() < 0.9 else "no"
    if kind == "percent":
        return f"{rng.uniform(80, 100):.1f}"
    if kind == "decimal":
        return f"{rng.uniform(0, 500):.2f}"
    return str(rng.randint(0, 400))


def _number(kind: str, text: str) -> str:
    if kind == "yesno":
        return "1" if text == "yes" else "0"
    return text


def submissions(
    world: World, rng: random.Random, clock: Clock, first_id: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The submission rows and their report_value rows (one per numeric field of a filed
    or returned report; a returned one is not counted)."""
    subs: list[tuple[Any, ...]] = []
    values: list[tuple[Any, ...]] = []
    next_id = first_id
    for month in world.months:  # month by month, as centres file them
        for centre in world.centres:
            if (centre.id, month) in world.skip:
                continue
            draw = rng.random()
            status = next(s for share, s in STATUSES if draw < share)
            if status is None:
                continue
            opened = month_start(month_after(month))
            saved = opened + rng.randint(DAY // 2, 9 * DAY)
            filled = {k: _value(rng, t, c) for k, t, _s, c in world.all_fields if t != "text"}
            sources = {
                k: {"source": s, "value": filled.get(k), "at": clock(opened)}
                for k, _t, s, _c in world.all_fields
                if s
            }
            filed = status != "draft"
            on_time = saved < opened + 5 * DAY if filed else None
            subs.append(
                (
                    next_id,
                    centre.id,
                    world.periods[month],
                    world.form_id,
                    month,
                    status,
                    json.dumps(filled, ensure_ascii=False),
                    json.dumps(sources, ensure_ascii=False),
                    "{}",
                    "{}",
                    1 if filed else 0,
                    clock(saved) if filed else None,
                    clock(saved) if filed else None,
                    on_time,
                    "请核对办件数" if status == "returned" else "",
                    clock(saved + DAY) if status in ("returned", "endorsed", "approved") else None,
                    clock(saved),
                    world.owner_id,
                    rng.randint(1, 4),
                )
            )
            if filed:
                for key, kind in world.fields:
                    if key in filled:
                        number = _number(kind, filled[key])
                        values.append(
                            (
                                centre.id,
                                next_id,
                                world.form_id,
                                month,
                                key,
                                number,
                                status != "returned",
                            )
                        )
            next_id += 1
    return subs, values
