"""Running the demo plan: each planned step through the real services, as the right
person of the right centre (see :mod:`app.cases.demo`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.calendar.workdays import SHANGHAI
from app.cases import actions, intake, ledger, ratings, timeline
from app.cases.demo_plan import (
    Plan,
    Step,
    pick,
)
from app.cases.intake import Intake, MaterialCheck
from app.cases.queries import core
from app.tenancy.scope import TenantScope, Tree


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


class Runner:
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
