"""Generated cases (``service_case``) with their timeline (``case_event``) and ratings,
streamed in chunks (10 million cases do not fit in memory as tuples).

Each case is registered in working hours of its month; about 3 % are refused, 2 %
returned, the rest accepted and — except in the last two months, where some are still
open — concluded (mostly by the promised due date) and usually delivered; 60 % of the
concluded ones are rated.  The timeline has the events the case desk writes (registered,
notice, accepted, review, decision, concluded, delivered, refused, returned, rated) or,
with ``events="counted"``, only the ones the monthly figures count (accepted, notice,
refused, returned).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from tests.bench.rollup.rows import DAY, Clock, World, month_after, month_start

CASE_COLUMNS = (
    "id tenant_id number year seq tenant_item_id template_id version_id item_code item_name"
    " kind promised_halves legal_halves applicant_kind applicant_name id_kind id_number"
    " id_hash phone contact_address channel window_id owner_id queue_tenant_id state urgent"
    " green_channel lookup_code note registered_at accepted_at concluded_at delivered_at"
    " closed_reason decision promised_due_at legal_due_at due_provisional legal_provisional"
    " paused extended_halves light legal_exceeded light_changes_at on_time notices"
    " delivery_method delivery_recipient delivery_note delivered_by_id rated updated_at"
).split()
EVENT_COLUMNS = "tenant_id case_id at actor_id actor_name action state note".split()
RATING_COLUMNS = "tenant_id case_id level comment channel rated_at".split()
ITEM_COLUMNS = "tenant_id template_id version_id promised_halves local_note active".split()

NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "阿依古丽", "买买提", "努尔兰", "赵磊", "周敏")
LEVELS = (5,) * 70 + (4,) * 18 + (3,) * 7 + (2,) * 3 + (1,) * 2
HALF = DAY // 2
Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def counts(world: World, total: int, rng: random.Random) -> dict[tuple[int, int], int]:
    """Cases per (centre, month), month by month: regiments weigh twice a community,
    ±30 %."""
    weights = {
        c.id: (2.0 if c.kind == "regiment" else 1.0) * rng.uniform(0.7, 1.3) for c in world.centres
    }
    whole = sum(weights.values()) * len(world.months)
    out: dict[tuple[int, int], int] = {}
    given = 0
    for month in world.months:  # month by month (the physical order of a live table)
        for centre in world.centres:
            n = int(total * weights[centre.id] / whole)
            out[(centre.id, month)] = n
            given += n
    keys = list(out)
    for i in range(total - given):  # the rounding remainder, one each
        out[keys[i % len(keys)]] += 1
    return out


class CaseMaker:
    """Rows of one centre and day at a time; ids and case numbers run on across calls."""

    def __init__(self, world: World, rng: random.Random, first_id: int, events: str) -> None:
        self.world = world
        self.rng = rng
        self.clock = Clock()
        self.next_id = first_id
        self.full = events == "full"
        self.seq: dict[tuple[int, int], int] = {}
        self.recent = set(world.months[-2:])
        self.slugs = {c.id: c.slug.upper() for c in world.centres}
        self.parent = {c.id: c.parent_id for c in world.centres}

    def day(self, centre_id: int, month: int, day: int, n: int, out: Chunk) -> None:
        """``n`` cases of a centre registered on ``day`` (0-based) of ``month``."""
        rng, ts, owner = self.rng, self.clock, self.world.owner_id
        items = self.world.items[centre_id]
        start = month_start(month) + day * DAY
        year = month // 100
        cases, events, ratings = out
        seq = self.seq.get((centre_id, year), 0)
        open_allowed = month in self.recent
        prefix = self.slugs[centre_id]
        for _ in range(n):
            cid = self.next_id
            self.next_id += 1
            seq += 1
            item = items[rng.randrange(len(items))]
            reg = start + 9 * 3600 + 1800 + rng.randrange(36000)  # 09:30–19:30 local
            promised_due = reg + item.promised_halves * HALF * 7 // 5 + DAY
            legal_due = reg + item.legal_halves * HALF * 7 // 5 + DAY
            draw = rng.random()
            notices = 1 if rng.random() < 0.1 else 0
            accepted = concluded = delivered = light_changes = None
            on_time = None
            rated = False
            light, decision, closed_reason = "", "", ""
            if draw < 0.03:
                state, closed_reason = "refused", "不符合受理条件"
                closing = reg + 3600
            elif draw < 0.05:
                state, closed_reason = "returned", "申请人撤回"
                accepted = reg + 1800
                closing = reg + rng.randint(1, 5) * DAY
            elif draw < 0.88 or not open_allowed:
                accepted = reg + 1800
                if item.kind == "immediate":
                    concluded = accepted + rng.randint(600, 7200)
                elif rng.random() < 0.92:
                    concluded = accepted + rng.randint(3600, max(7200, promised_due - accepted))
                else:
                    concluded = promised_due + rng.randint(3600, 5 * DAY)
                on_time = concluded <= promised_due
                decision = "approved"
                state = "concluded"
                if rng.random() < 0.85:
                    delivered = concluded + rng.randint(600, 2 * DAY)
                    state = "delivered"
                rated = rng.random() < 0.6
            else:
                accepted = reg + 1800
                state = ("accepted", "review", "decision")[rng.randrange(3)]
                light = ("green", "green", "yellow", "red")[rng.randrange(4)]
                light_changes = promised_due - 2 * DAY
            updated = delivered or concluded or accepted or reg
            cases.append(
                (
                    cid,
                    centre_id,
                    f"{prefix}-{year}-{seq:06d}",
                    year,
                    seq,
                    item.tenant_item_id,
                    item.template_id,
                    item.version_id,
                    item.code,
                    item.name,
                    item.kind,
                    item.promised_halves,
                    item.legal_halves,
                    "person",
                    NAMES[cid % 10],
                    "resident_id",
                    f"654001199{cid % 10**9:09d}",
                    f"{rng.getrandbits(256):064x}",
                    f"139{cid % 10**8:08d}",
                    "",
                    "window",
                    None,
                    owner,
                    self.parent[centre_id] if item.kind == "escalated" else centre_id,
                    state,
                    rng.random() < 0.03,
                    False,
                    f"{cid % 10**8:08d}",
                    "",
                    ts(reg),
                    ts(accepted),
                    ts(concluded),
                    ts(delivered),
                    closed_reason,
                    decision,
                    ts(promised_due),
                    ts(legal_due),
                    False,
                    False,
                    False,
                    0,
                    light,
                    False,
                    ts(light_changes),
                    on_time,
                    notices,
                    "window" if delivered else "",
                    NAMES[cid % 10] if delivered else "",
                    "",
                    owner if delivered else None,
                    rated,
                    ts(updated),
                )
            )
            ev = events.append
            if self.full:
                ev((centre_id, cid, ts(reg), owner, "窗口", "registered", "registered", ""))
            if notices:
                ev((centre_id, cid, ts(reg + 600), owner, "窗口", "notice", "supplement", ""))
            if accepted is not None:
                ev((centre_id, cid, ts(accepted), owner, "窗口", "accepted", "accepted", ""))
            if state in ("refused", "returned"):
                ev((centre_id, cid, ts(closing), owner, "窗口", state, state, closed_reason))
            if concluded is not None and self.full:
                if item.kind != "immediate":
                    ev(
                        (
                            centre_id,
                            cid,
                            ts((accepted or reg) + 3600),
                            owner,
                            "窗口",
                            "review",
                            "review",
                            "",
                        )
                    )
                    ev(
                        (
                            centre_id,
                            cid,
                            ts(concluded - 600),
                            owner,
                            "窗口",
                            "decision",
                            "decision",
                            "",
                        )
                    )
                ev((centre_id, cid, ts(concluded), owner, "窗口", "concluded", "concluded", ""))
                if delivered is not None:
                    ev((centre_id, cid, ts(delivered), owner, "窗口", "delivered", "delivered", ""))
            if rated and concluded is not None:
                at = ts(concluded + rng.randint(600, 3 * DAY))
                level = LEVELS[rng.randrange(100)]
                ratings.append((centre_id, cid, level, "", "lookup", at))
                if self.full:
                    ev((centre_id, cid, at, None, "", "rated", state, ""))
        self.seq[(centre_id, year)] = seq


def stream(
    world: World, total: int, rng: random.Random, first_id: int, events: str
) -> Iterator[Chunk]:
    """Chunks of (cases, events, ratings), one day of every centre each: the physical
    order of a live table, where the centres' cases interleave day by day."""
    maker = CaseMaker(world, rng, first_id, events)
    wanted = counts(world, total, rng)
    for month in world.months:
        days = (month_start(month_after(month)) - month_start(month)) // DAY
        per_day = {}
        for centre in world.centres:
            n = wanted[(centre.id, month)]
            split = [n // days] * days
            for i in rng.sample(range(days), n % days):
                split[i] += 1
            per_day[centre.id] = split
        for day in range(days):
            chunk: Chunk = ([], [], [])
            for centre in world.centres:
                if per_day[centre.id][day]:
                    maker.day(centre.id, month, day, per_day[centre.id][day], chunk)
            yield chunk
