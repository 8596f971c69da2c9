"""Demo cases (``tenants/demo/cases.toml``): months of a centre's work, for a new embedded
database only (called from :func:`app.demo.load_demo`).

Every case goes through the real services (intake, actions, ratings, ledger) with ``now=``
in the past, so timelines, numbers, documents, the seal ledger and the stored deadline
columns are exactly what the desk would have produced.  The plan is drawn from
``random.Random(seed)`` over the centre's real service sessions (working days of its
calendar): each case's steps land in sessions, and all steps of all cases run in time
order, so case and document numbers follow the dates.  Finally the light sweep brings
every open case's light to the present.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import db
from app.accounts import queries as accounts
from app.calendar.workdays import SHANGHAI
from app.cases import actions, intake, ledger, lights, ratings, timeline
from app.cases.demo_plan import (
    FORWARD,
    OPEN,
    RECENT,
    Plan,
    Step,
    credit_code,
    eligible,
    organisation,
    person,
    pick,
    place_in_time,
    plan_case,
)
from app.cases.intake import Intake, MaterialCheck
from app.cases.queries import core
from app.cases.queries import seals as seal_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, system_scope, user_scope

BATCH = 400  # plan steps per transaction


@dataclass
class Centre:
    slug: str
    tenant_id: int
    spec: dict[str, Any]
    items: dict[str, dict[str, Any]]
    scopes: dict[str, TenantScope]
    actors: dict[str, timeline.Actor]
    seal: int
    slots: list[tuple[datetime, datetime]]
    since: datetime


async def _scope(tree: Tree, slug: str, username: str) -> tuple[TenantScope, timeline.Actor]:
    user = await accounts.user_by_username(username)
    if user is None:
        raise LookupError(f"demo: no user {username!r}")
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, False)
    if scope is None:
        raise LookupError(f"demo: {username!r} is not a member of {slug!r}")
    return scope, timeline.Actor(user["id"], user["display_name"])


async def _seal(scope: TenantScope, tenant_id: int, seal: dict[str, str], since: datetime) -> int:
    """The centre registers its approval seal (demo only: dated before the first case)
    unless it has an active one."""
    found = [s for s in await seal_queries.seals(scope, tenant_id) if s["active"]]
    if found:
        return int(found[0]["id"])
    from app.cases.seal_routes import add_seal

    scope.require("seal.manage")
    seal_id = await add_seal(None, scope, tenant_id, seal["name"], seal["keeper"])
    async with db.write(scope):
        await seal_queries.update_seal(scope, seal_id, created_at=since - timedelta(days=30))
    return seal_id


async def _adopt_extra(scope: TenantScope, tenant_id: int, codes: list[str]) -> None:
    from app.catalogue import adoption

    groups = await adoption.catalogue(scope, tenant_id)
    entries = [e for g in groups for e in g["open"] if e["code"] in codes]
    if entries:
        await adoption.adopt(None, scope, entries)


def _slots(cal: Any, first: date, now: datetime) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    day = first
    while day <= now.astimezone(SHANGHAI).date():
        out.extend((s, e) for s, e in cal.sessions(day) if e <= now)
        day += timedelta(days=1)
    return out


async def _centre(tree: Tree, slug: str, spec: dict[str, Any], now: datetime) -> Centre:
    c = spec["centres"][slug]
    users = {c["manager"], *(u for names in c["clerks"].values() for u in names)}
    pairs = {u: await _scope(tree, slug, u) for u in sorted(users)}
    scopes = {u: s for u, (s, _) in pairs.items()}
    manager = scopes[c["manager"]]
    tenant_id = tree.by_slug[slug].id
    await _adopt_extra(manager, tenant_id, c.get("extra_items", []))
    items = {}
    for code in c["items"]:
        found = await _adopted(manager, tenant_id, code)
        if found is not None:
            items[code] = found
    cal, _margin = await timeline.clock(manager, tenant_id)
    since = now - timedelta(days=30 * int(spec["months"]))
    first = (since - timedelta(days=30)).astimezone(SHANGHAI).date()
    return Centre(
        slug,
        tenant_id,
        c,
        items,
        scopes,
        {u: a for u, (_, a) in pairs.items()},
        await _seal(manager, tenant_id, c["seal"], since),
        _slots(cal, first, now),
        since,
    )


async def _adopted(scope: TenantScope, tenant_id: int, code: str) -> dict[str, Any] | None:
    from app.catalogue.queries import public as items

    row = await items.adopted_item(scope, tenant_id, code)
    if row is None or row["retired_at"] is not None:
        return None
    content = row["content"]
    return {
        "code": code,
        "kind": content["kind"],
        "department": row.get("department_code") or content.get("department", ""),
        "p": int(row["promised"]),
        "l": int(content["legal_halves"]),
        "materials": content.get("materials", []),
    }


def _plans(rng: random.Random, spec: dict[str, Any], centre: Centre, orgs: list) -> list[Plan]:
    c = centre.spec
    weights = {k: w for k, w in c["items"].items() if k in centre.items}
    wanted: list[tuple[str, str | None]] = []
    for fixed in c.get("fixed", []):
        wanted += [(fixed["scenario"], fixed.get("item"))] * int(fixed["count"])
    total = int(c["per_month"]) * int(spec["months"])
    wanted += [(pick(rng, spec["mix"]), None) for _ in range(max(0, total - len(wanted)))]
    n = len(centre.slots)
    plans = []
    window = next((i for i, (s, _) in enumerate(centre.slots) if s >= centre.since), 0)
    for wanted_scenario, code in wanted:
        for _ in range(50):
            scenario = wanted_scenario
            item = centre.items.get(code or pick(rng, weights))
            if item is None:
                continue
            if code is None and item["kind"] == "immediate" and scenario in FORWARD:
                scenario = "refused" if scenario == "refused" else "on_time"
            if eligible(scenario, item):
                break
        else:
            continue
        assert item is not None
        urgent = rng.random() < spec["urgent_rate"]
        details = {**item, **spec["items"].get(item["code"], {})}
        steps = plan_case(rng, spec, scenario, details, urgent)
        low, high = min(s.slot for s in steps), max(s.slot for s in steps)
        if scenario in OPEN or scenario == "awaiting_supplement":
            elapsed = steps[0].kw.get("elapsed", rng.randint(1, 4))
            shift = n - 1 - (elapsed if scenario in OPEN else high + elapsed)
        elif scenario == "undelivered":
            shift = n - 1 - high - rng.randint(0, 6)
        else:
            if n - 1 - high < window - low:
                continue
            shift = rng.randint(window - low, n - 1 - high)
            if shift + low > n - RECENT and rng.random() < 0.5:
                # Recent weeks also hold the open cases: keep the monthly volume even.
                shift = rng.randint(window - low, max(window - low, n - RECENT - low))
        if shift + low < 0 or shift + high > n - 1:
            continue
        for s in steps:
            s.slot += shift
        about = spec["items"].get(item["code"], {})
        applicant_kind = about.get("applicant", "person")
        if applicant_kind == "either":
            applicant_kind = rng.choice(["person", "organisation"])
        applicant = (
            organisation(rng, orgs, c, about.get("organisations", ""))
            if applicant_kind == "organisation"
            else person(rng, spec, c, about)
        )
        dept = item["department"]
        clerk = rng.choice(c["clerks"].get(dept) or c["clerks"]["mzj"])
        plans.append(
            {
                "centre": centre,
                "item": item,
                "scenario": scenario,
                "steps": steps,
                "applicant": applicant,
                "clerk": clerk,
                "urgent": urgent,
                "green": applicant["kind"] == "organisation"
                and rng.random() < spec["green_channel_rate"],
                "channel": pick(rng, spec["channels"]),
                "case_id": None,
            }
        )
    place_in_time(rng, plans)
    return plans


async def load_cases(
    path: Path, now: datetime | None = None, scale: float | None = None
) -> list[str]:
    """Load the demo cases of ``path/cases.toml``; returns lines to print.

    ``scale`` multiplies each centre's monthly volume (the fixed scenarios stay); without
    it, ``DEMO_CASES_SCALE`` from the environment (tests load a small demo), else 1.
    """
    started = time.monotonic()
    if scale is None:
        scale = float(os.environ.get("DEMO_CASES_SCALE") or 1)
    spec = tomllib.loads((path / "cases.toml").read_text(encoding="utf-8"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(spec["seed"])
    tree = await tenancy.tree()
    for slug in spec["centres"]:
        spec["centres"][slug]["per_month"] = max(
            1, round(int(spec["centres"][slug]["per_month"]) * scale)
        )
    division = spec["division"]
    d4 = {u: await _scope(tree, division["slug"], u) for u in division["supervisors"]}
    d4_manager, _ = await _scope(tree, division["slug"], division["manager"])
    since = now - timedelta(days=30 * int(spec["months"]))
    d4_seal = await _seal(d4_manager, d4_manager.own(), division["seal"], since)
    centres, plans = {}, []
    for slug in spec["centres"]:
        if slug not in tree.by_slug:
            continue
        centre = await _centre(tree, slug, spec, now)
        if not centre.slots:
            continue
        manager = centre.scopes[centre.spec["manager"]]
        for year in sorted({intake.local_year(centre.since), intake.local_year(now)}):
            number = intake.case_number(slug, year, 1)
            if await core.case_by_number(manager, centre.tenant_id, number):
                return [f"Demo cases are already loaded ({number} exists); skipped."]
        orgs = [
            {**o, "code": credit_code(rng, o["prefix"], o["region"])}
            for o in spec["organisations"]
            if o["centre"] == slug
        ]
        centres[slug] = centre
        plans += _plans(rng, spec, centre, orgs)
    runner = _Runner(spec, rng, d4, d4_seal)
    queue = sorted(
        ((s.at, i, j) for i, p in enumerate(plans) for j, s in enumerate(p["steps"])),
        key=lambda t: (t[0], t[1], t[2]),
    )
    # Batches of steps share one transaction (the services' own writes nest inside it), and
    # the centres' calendars are read once: the same rows, written many times faster.
    batch = system_scope(tree, reason="demo data")
    with _calendars_read_once():
        for first in range(0, len(queue), BATCH):
            async with db.write(batch):
                for _at, i, j in queue[first : first + BATCH]:
                    await runner.step(plans[i], plans[i]["steps"][j])
    await runner.final_states(centres)
    async with db.write(batch):
        rated, low = await runner.rate_all(tree, plans, now)
    await lights.move_lights(now)
    lines = []
    for slug, centre in centres.items():
        states = Counter(runner.states[p["case_id"]] for p in plans if p["centre"] is centre)
        listed = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
        lines.append(f"Demo cases at {slug}: {sum(states.values())} ({listed}).")
    lines.append(
        f"Demo ratings: {rated} ({low} low, in the rectification ledger); "
        f"loaded in {time.monotonic() - started:.1f} s."
    )
    return lines


@contextlib.contextmanager
def _calendars_read_once() -> Iterator[None]:
    """While the demo loads, the services reuse each centre's calendar (it cannot change
    meanwhile) instead of reading it again for every action."""
    cache: dict[int, tuple[Any, int]] = {}
    original = timeline.clock

    async def clock(scope: TenantScope, tenant_id: int) -> tuple[Any, int]:
        if tenant_id not in cache:
            cache[tenant_id] = await original(scope, tenant_id)
        return cache[tenant_id]

    patched = [m for m in (intake, actions) if getattr(m, "clock", None) is original]
    for module in patched:
        module.clock = clock  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in patched:
            module.clock = original  # type: ignore[attr-defined]


class _Runner:
    """Runs plan steps through the services, as the right person of the right centre."""

    def __init__(self, spec: dict[str, Any], rng: random.Random, d4: dict, d4_seal: int) -> None:
        self.spec, self.rng, self.d4, self.d4_seal = spec, rng, d4, d4_seal
        self.states: dict[int, str] = {}

    def _who(self, plan: Plan, username: str | None = None) -> tuple[TenantScope, Any]:
        centre: Centre = plan["centre"]
        user = username or plan["clerk"]
        return centre.scopes[user], centre.actors[user]

    async def step(self, plan: Plan, step: Step) -> None:
        centre: Centre = plan["centre"]
        at, kw = step.at, step.kw
        scope, actor = self._who(plan)
        case_id = plan["case_id"]
        escalated = plan["item"]["kind"] == "escalated"
        queue = self.d4[sorted(self.d4)[case_id % len(self.d4)]] if case_id else None
        texts = self.spec["texts"]
        if step.op == "register":
            plan["case_id"] = case_id = await intake.register(
                scope, actor, self._intake(plan, kw), at
            )
        elif step.op == "supplement":
            checks = {i: MaterialCheck(st, problem) for i, (st, problem) in kw["set"].items()}
            await intake.update_materials(scope, case_id, actor, checks, now=at)
        elif step.op == "notice":
            await intake.issue_notice(scope, case_id, actor, reason=kw["reason"], now=at)
        elif step.op == "accept":
            await intake.accept(scope, case_id, actor, now=at)
        elif step.op == "refuse":
            await intake.refuse(scope, case_id, actor, kw["reason"], now=at)
        elif step.op == "review":
            who = queue if escalated and queue else (scope, actor)
            await actions.start_review(who[0], case_id, who[1], kw.get("note", ""), now=at)
        elif step.op == "sign":
            signer = self.rng.choice(centre.spec["clerks"]["cl"])
            s_scope, s_actor = self._who(plan, signer)
            note = self.rng.choice(texts["signs"])
            await actions.sign(s_scope, case_id, s_actor, "cl", note, now=at)
        elif step.op == "submit":
            who = queue if escalated and queue else (scope, actor)
            await actions.submit(who[0], case_id, who[1], now=at)
        elif step.op == "decide":
            decision = kw["decision"]
            reason = ""
            if decision == "denied":
                extra = self.spec["items"].get(plan["item"]["code"], {}).get("deny")
                reason = extra or self.rng.choice(texts["denials"])
            if escalated and queue:
                d_scope, d_actor, seal = queue[0], queue[1], self.d4_seal
            else:
                d_scope, d_actor = self._who(plan, centre.spec["manager"])
                seal = centre.seal
            await actions.decide(d_scope, case_id, d_actor, decision, seal, reason, now=at)
        elif step.op == "return":
            await actions.return_case(scope, case_id, actor, self.rng.choice(texts["returns"]), at)
        elif step.op == "pause":
            await actions.pause(scope, case_id, actor, kw["reason"], kw["note"], now=at)
        elif step.op == "resume":
            await actions.resume(scope, case_id, actor, kw.get("note", ""), now=at)
        elif step.op == "extend":
            m_scope, m_actor = self._who(plan, centre.spec["manager"])
            reason = self.rng.choice(texts["extensions"])
            await actions.extend(m_scope, case_id, m_actor, kw["days"], reason, now=at)
        elif step.op == "deliver":
            assert at is not None
            method = pick(self.rng, self.spec["delivery"])
            note = texts["deliveries"][method]
            on = at.astimezone(SHANGHAI).date()
            recipient = plan["applicant"]["name"]
            await actions.deliver(scope, case_id, actor, method, on, recipient, note, now=at)
        else:  # pragma: no cover - plan_case only makes the ops above
            raise ValueError(step.op)

    async def final_states(self, centres: dict[str, Centre]) -> None:
        from app.cases.queries import lists

        for centre in centres.values():
            scope = centre.scopes[centre.spec["manager"]]
            rows = await lists.cases(
                scope, lists.CaseFilter(frozenset({centre.tenant_id})), 0, 10**6
            )
            self.states.update({row["id"]: row["state"] for row in rows})

    def _intake(self, plan: Plan, kw: dict[str, Any]) -> Intake:
        checks: dict[int, MaterialCheck] = {}
        for i, material in enumerate(plan["item"]["materials"]):
            if material.get("requirement") == "conditional":
                checks[i] = MaterialCheck("received" if self.rng.random() < 0.3 else "waived")
            else:
                checks[i] = MaterialCheck("received")
        for i in kw.get("missing", []):
            checks[i] = MaterialCheck("missing")
        for i, problem in kw.get("defect", {}).items():
            checks[i] = MaterialCheck("defective", problem)
        who = plan["applicant"]
        return Intake(
            item_code=plan["item"]["code"],
            applicant_kind=who["kind"],
            applicant_name=who["name"],
            id_number=who["id"],
            phone=who["phone"],
            channel=plan["channel"],
            materials=checks,
            urgent=plan["urgent"],
            green_channel=plan["green"],
            contact_address=who["address"],
        )

    async def rate_all(self, tree: Tree, plans: list[Plan], now: datetime) -> tuple[int, int]:
        """Applicants rate ~``rating_rate`` of the finished cases; low ones open ledger items,
        which the manager works through when they are old enough."""
        rated = low = 0
        texts = self.spec["texts"]
        for plan in sorted(plans, key=lambda p: p["steps"][-1].at):
            case_id = plan["case_id"]
            if self.states.get(case_id) not in ("concluded", "delivered", "refused", "returned"):
                continue
            if self.rng.random() >= self.spec["rating_rate"]:
                continue
            last = plan["steps"][-1].at
            at = min(last + timedelta(hours=self.rng.randint(1, 72)), now - timedelta(minutes=5))
            weights = dict(self.spec["ratings"])
            if plan["scenario"] in ("late", "refused", "returned", "denied"):
                weights = {"5": 20, "4": 25, "3": 20, "2": 20, "1": 15}
            level = int(pick(self.rng, weights))
            reasons: list[str] = []
            comment = self.rng.choice(texts["good_comments"])
            if level <= ratings.LOW:
                reasons = self.rng.sample(texts["low_reasons"], self.rng.randint(1, 2))
                if plan["scenario"] == "late" and "slow" not in reasons:
                    reasons.append("slow")
                comment = self.rng.choice(texts["low_comments"])
            channel = self.rng.choice(["lookup", "receipt"])
            data = ratings.clean(str(level), reasons, comment, channel)
            scope, _ = self._who(plan, plan["centre"].spec["manager"])
            case = await core.case(scope, case_id)
            assert case is not None
            result = await ratings.rate(None, tree, case, data, now=at)
            rated += 1
            if result.rectification_id is not None:
                low += 1
                await self._rectify(plan, result.rectification_id, at, now)
        return rated, low

    async def _rectify(self, plan: Plan, item_id: int, opened: datetime, now: datetime) -> None:
        """The manager works older items through (most closed), recent ones stay open."""
        scope, _ = self._who(plan, plan["centre"].spec["manager"])
        steps = self.spec["texts"]["rectification"]
        age = (now - opened).days
        done = 0 if age < 7 else self.rng.randint(0, 2) if age < 21 else len(steps)
        if done == len(steps) and self.rng.random() < 0.25:
            done = self.rng.randint(1, len(steps) - 1)  # a few old ones still not closed
        at = opened
        for step in steps[:done]:
            at = at + timedelta(days=self.rng.randint(1, 4), minutes=self.rng.randint(0, 300))
            if at >= now - timedelta(hours=1):
                return
            outcome = "resolved" if step["step"] == "outcome" else ""
            await ledger.take_step(None, scope, item_id, step["step"], step["note"], outcome, at)
