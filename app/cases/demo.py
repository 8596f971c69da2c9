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

import os
import random
import time
import tomllib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import db
from app.accounts import queries as accounts
from app.calendar.workdays import SHANGHAI
from app.cases import intake, lights, timeline
from app.cases.demo_plan import (
    FORWARD,
    OPEN,
    RECENT,
    Plan,
    credit_code,
    eligible,
    organisation,
    person,
    pick,
    place_in_time,
    plan_case,
)
from app.cases.demo_runner import Centre, Runner
from app.cases.queries import core
from app.cases.queries import seals as seal_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, system_scope, user_scope

BATCH = 400  # plan steps per transaction


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
    runner = Runner(spec, rng, d4, d4_seal)
    queue = sorted(
        ((s.at, i, j) for i, p in enumerate(plans) for j, s in enumerate(p["steps"])),
        key=lambda t: (t[0], t[1], t[2]),
    )
    # Batches of steps share one transaction (the services' own writes nest inside it), and
    # the centres' calendars are read once: the same rows, written many times faster.
    batch = system_scope(tree, reason="demo data")
    with timeline.clocks_cached():
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
