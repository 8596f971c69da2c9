"""Planning the demo cases (pure: no database): applicants with valid IDs, and each case's
steps in its centre's service sessions, from ``random.Random`` and ``tenants/demo/cases.toml``.

A plan step is ``(slot, op, kw)``: ``slot`` indexes the centre's finished sessions (working
days of its calendar, two per day), so elapsed half-days — and therefore the light a case
will show — follow from how far its acceptance lies from the last slot.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.cases.identity import CREDIT_ALPHABET, credit_check_char, resident_check_char

Plan = dict[str, Any]  # one case: centre, item, scenario, applicant, clerk, steps
RECENT = 40  # sessions (20 working days) before today
FORWARD = {"on_time", "undelivered", "late", "denied", "returned", "refused", "paused"}
FORWARD |= {"extended", "second_notice"}
OPEN = {"open_green", "open_yellow", "open_red", "open_legal", "open_paused", "open_extended"}
LONG = OPEN | {"extended", "paused"}  # need a promised limit of 10 half-days or more
NOT_ESCALATED = {"returned", "paused", "open_paused", "extended", "open_extended"}


@dataclass
class Step:
    slot: int
    op: str
    kw: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def pick(rng: random.Random, weights: dict[str, Any]) -> str:
    keys = list(weights)
    return rng.choices(keys, [float(weights[k]) for k in keys])[0]


# --- applicants ---------------------------------------------------------------------------


def resident_id(rng: random.Random, region: str, born: date, male: bool) -> str:
    serial = rng.randrange(0, 50) * 20 + rng.randrange(0, 10) * 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_check_char(first17)


def organisation_code(rng: random.Random, prefix: str) -> str:
    """A 9-character organisation code with its GB 11714 check character."""
    if prefix == "12":
        body = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        body = "MA" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(6))
    values = [int(c, 36) for c in body]
    check = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, prefix: str, region: str) -> str:
    first17 = f"{prefix}{region}{organisation_code(rng, prefix)}"
    return first17 + credit_check_char(first17)


def person(rng: random.Random, spec: dict[str, Any], centre: dict[str, Any], item: dict) -> dict:
    people = spec["people"]
    group = pick(rng, centre["ethnic"])
    male = rng.random() < 0.5
    names = people[group]["male" if male else "female"]
    if group in ("han", "xibe"):
        name = rng.choice(people[group]["surnames"]) + rng.choice(names)
    else:
        name = f"{rng.choice(names)}·{rng.choice(people[group]['male'])}"
    first, last = item.get("born", [1950, 2004])
    born = date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))
    phone = rng.choice(["139", "138", "135", "150", "152", "158", "181", "189", "199", "177"])
    return {
        "kind": "person",
        "name": name,
        "id": resident_id(rng, rng.choice(centre["regions"]), born, male),
        "phone": phone + f"{rng.randrange(10**8):08d}",
        "address": f"{rng.choice(centre['places'])}{rng.randint(1, 60)}号",
    }


def organisation(rng: random.Random, orgs: list[dict[str, Any]], centre: dict, tag: str) -> dict:
    org = rng.choice([o for o in orgs if tag in o.get("tags", [])] or orgs)
    return {
        "kind": "organisation",
        "name": org["name"],
        "id": org["code"],
        "phone": f"0999-{rng.choice(['30', '36', '80'])}{rng.randrange(10**5):05d}",
        "address": org.get("address") or rng.choice(centre["places"]),
    }


# --- planning: steps in session slots ------------------------------------------------------


def _conclusion(rng: random.Random, scenario: str, p: int, lg: int, urgent: bool) -> int:
    if scenario == "late":
        return p + rng.randint(2, max(2, min(10, lg - p - 1)))
    hi = max(1, p - 1)
    return rng.randint(max(1, p // 4), max(1, hi // 2 if urgent else hi))


def plan_case(
    rng: random.Random, spec: dict[str, Any], scenario: str, item: dict, urgent: bool = False
) -> list[Step]:
    """The steps of one case, slots relative to its acceptance (slot 0)."""
    texts = spec["texts"]
    kind, p, lg = item["kind"], item["p"], item["l"]
    materials = item["materials"]
    required = [i for i, m in enumerate(materials) if m.get("requirement") != "conditional"]
    steps: list[Step] = []
    # Intake: complete, or a one-time notice first (then supplement and accept at slot 0).
    notice = scenario in ("refused", "second_notice", "awaiting_supplement") or (
        scenario not in OPEN and rng.random() < spec["notice_rate"]
    )
    if not notice:
        steps.append(Step(0, "register"))
    else:
        missing = sorted(rng.sample(required, min(len(required), rng.randint(1, 2))))
        defect = {}
        if rng.random() < 0.3 and len(required) > len(missing):
            position = rng.choice([i for i in required if i not in missing])
            defect = {position: rng.choice(texts["defects"])}
        k = rng.randint(1, 6)
        if scenario == "second_notice":
            k2 = rng.randint(2, 4)
            steps.append(Step(-k - k2, "register", {"missing": missing, "defect": defect}))
            fixed = {i: ("received", "") for i in [*missing, *defect]}
            new = ([i for i in required if i not in fixed] or required)[0]
            fixed[new] = ("defective", "户口簿未体现迁入记录，需补交户口迁移证明")
            steps.append(Step(-k2, "supplement", {"set": fixed}))
            steps.append(Step(-k2, "notice", {"reason": rng.choice(texts["second_notice"])}))
            steps.append(Step(0, "supplement", {"set": {new: ("received", "")}}))
            steps.append(Step(0, "accept"))
        elif scenario in ("refused", "awaiting_supplement"):
            steps.append(Step(-k, "register", {"missing": missing, "defect": defect}))
            if scenario == "refused":
                steps.append(Step(0, "refuse", {"reason": rng.choice(texts["refusals"])}))
            return steps
        else:
            steps.append(Step(-k, "register", {"missing": missing, "defect": defect}))
            fixed = {i: ("received", "") for i in [*missing, *defect]}
            steps.append(Step(0, "supplement", {"set": fixed}))
            steps.append(Step(0, "accept"))
    if kind == "immediate":
        if scenario != "undelivered":
            steps.append(Step(0, "deliver"))
        return steps
    escalated = kind == "escalated"
    if scenario in OPEN:
        e = {
            "open_green": lambda: rng.randint(1, max(1, p - 6)),
            "open_yellow": lambda: rng.randint(p - 3, p - 1),
            "open_red": lambda: rng.randint(p + 2, max(p + 2, min(p + 16, lg - 2))),
            "open_legal": lambda: rng.randint(lg + 2, lg + 12),
            "open_paused": lambda: rng.randint(4, max(4, p - 4)),
            "open_extended": lambda: rng.randint(p, p + 10),
        }[scenario]()
        steps[0].kw["elapsed"] = e
        stage = pick(rng, {"accepted": 3, "review": 5, "decision": 2})
        if scenario == "open_green":  # a fresh green case waits at 受理: every date has one
            stage = "accepted"
        if scenario == "open_yellow":  # due soon, waiting for the decision: every date has one
            stage = "decision"
        if scenario == "open_paused":
            stage = "review"
        if stage != "accepted" or scenario in ("open_paused", "open_extended"):
            steps.append(Step(rng.randint(0 if not escalated else 1, min(2, e)), "review"))
            if kind == "joint":
                steps.append(Step(min(e, steps[-1].slot + 1), "sign"))
            if scenario == "open_paused":
                pause = rng.choice(texts["pauses"])
                steps.append(Step(rng.randint(steps[-1].slot, e), "pause", pause))
            elif scenario == "open_extended":
                steps.append(Step(p - 3, "extend", {"days": 10}))
            if stage == "decision":
                steps.append(Step(rng.randint(steps[-1].slot, e), "submit"))
        return steps
    # Forward scenarios: review → (sign) → (pause/extend) → submit → decide → deliver.
    if scenario == "returned":
        review = rng.randint(0, 2)
        steps.append(Step(review, "review", {"note": rng.choice(texts["reviews"])}))
        steps.append(Step(rng.randint(review, max(review, p // 2)), "return"))
        return steps
    c = _conclusion(rng, scenario, p, lg, urgent)
    extra: list[Step] = []
    if scenario == "paused":
        start = rng.randint(1, max(1, p // 2))
        stop = start + rng.randint(2, 10)
        which = rng.randrange(len(texts["pauses"]))
        extra = [
            Step(start, "pause", texts["pauses"][which]),
            Step(stop, "resume", {"note": texts["resumes"][which]}),
        ]
        c = stop + rng.randint(1, max(1, p - start - 2))
    elif scenario == "extended":
        days = rng.randint(5, 15 if kind == "joint" else 10)
        extra = [Step(max(1, p - rng.randint(2, 5)), "extend", {"days": days})]
        c = p + rng.randint(1, 2 * days - 2)
    review = min(rng.randint(1 if escalated else 0, 2), c)
    if extra:
        review = min(review, extra[0].slot)
    steps.append(Step(review, "review", {"note": rng.choice(texts["reviews"])}))
    if kind == "joint":
        steps.append(Step(rng.randint(review, max(review, min(c, review + 2))), "sign"))
    steps.extend(extra)
    steps.append(Step(c, "submit"))
    steps.append(Step(c, "decide", {"decision": "denied" if scenario == "denied" else "approved"}))
    if scenario != "undelivered":
        steps.append(Step(c + rng.randint(0, 3), "deliver"))
    return steps


# --- the loader -----------------------------------------------------------------------------


def eligible(scenario: str, item: dict[str, Any]) -> bool:
    if item["kind"] == "immediate":
        return scenario in ("on_time", "undelivered", "refused")
    if item["kind"] == "escalated" and scenario in NOT_ESCALATED:
        return False
    if scenario in LONG and item["p"] < 10:
        return False
    if scenario in ("open_red", "open_legal") and item["l"] - item["p"] < 6:
        return False
    return True


def place_in_time(rng: random.Random, plans: list[Plan]) -> None:
    """Give each step a moment inside its session, strictly increasing per case."""
    for plan in plans:
        slots = plan["centre"].slots
        previous: datetime | None = None
        for step in sorted(plan["steps"], key=lambda s: s.slot):
            start, end = slots[step.slot]
            at = start + (end - start) * rng.uniform(0.05, 0.7)
            if previous is not None and at <= previous:
                at = previous + timedelta(minutes=rng.randint(3, 20))
            at = min(at, end - timedelta(seconds=30))
            if previous is not None and at <= previous:
                at = previous + timedelta(seconds=20)
            step.at = at.replace(microsecond=0)
            previous = step.at
        plan["steps"].sort(key=lambda s: s.at)
