"""Shared helpers for case-desk tests: scopes, adoption of seed items, registering cases.

Seed items used (tenants/catalogue-*.toml): 051801000000 低保 (promised 20 / legal 30 days,
two conditional materials), 071806000000 结婚登记 (immediate), 051807000000 (joint, ``cl``),
and the escalated 危险化学品经营许可证核发.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from app.accounts import queries as accounts
from app.cases import intake
from app.cases.intake import Intake, MaterialCheck
from app.cases.queries import core
from app.cases.timeline import Actor
from app.catalogue.queries import public as items
from app.catalogue.queries import templates
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, for_user, system_scope, user_scope

DIBAO = "051801000000"  # promised 40 halves, legal 60, materials 0..4 required, 5..6 conditional
MARRIAGE = "071806000000"  # immediate
DISABILITY = "051807000000"  # joint: department "cl"
# A valid resident ID (check digit X) and a valid unified social credit code.
RESIDENT_ID = "65400119900101006X"
CREDIT_CODE = "91654000MA7XXXXX00"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def scope_of(username: str, slug: str) -> TenantScope:
    tree = await tenancy.tree()
    user = await accounts.user_by_username(username)
    assert user is not None
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    assert scope is not None
    return scope


async def actor_of(username: str) -> Actor:
    user = await accounts.user_by_username(username)
    assert user is not None
    return Actor(user["id"], user["display_name"])


async def ensure_adopted(slug: str, code: str) -> dict[str, Any]:
    """The centre's adoption of a seed item, created (latest version) when missing."""
    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    system = system_scope(tree, reason="tests: adoption")
    found = await items.adopted_item(system, tenant_id, code)
    if found is None:
        template = await templates.template_by_code(system, code)
        assert template is not None, code
        latest = (await templates.latest_versions(system, [template["id"]]))[template["id"]]
        await items.insert_adoption(system, tenant_id, template["id"], latest["id"])
        found = await items.adopted_item(system, tenant_id, code)
    assert found is not None
    return found


def every_material(code_item: dict[str, Any], status: str = "received") -> dict[int, MaterialCheck]:
    out = {}
    for i, material in enumerate(code_item["content"]["materials"]):
        conditional = material.get("requirement") == "conditional"
        out[i] = MaterialCheck("waived" if conditional and status == "received" else status)
    return out


async def register(
    username: str,
    slug: str,
    code: str = DIBAO,
    *,
    missing: tuple[int, ...] = (),
    now: datetime | None = None,
    name: str = "张三",
    id_number: str = RESIDENT_ID,
    urgent: bool = False,
) -> dict[str, Any]:
    """Register a case as ``username`` at ``slug``; materials complete unless ``missing``."""
    item = await ensure_adopted(slug, code)
    checks = every_material(item)
    for position in missing:
        checks[position] = MaterialCheck("missing")
    scope = await scope_of(username, slug)
    case_id = await intake.register(
        scope,
        await actor_of(username),
        Intake(
            item_code=code,
            applicant_kind="person",
            applicant_name=name,
            id_number=id_number,
            phone="13912345678",
            channel="window",
            materials=checks,
            urgent=urgent,
        ),
        now=now,
    )
    case = await core.case(scope, case_id)
    assert case is not None
    return case


async def ensure_seal(slug: str, name: str = "") -> int:
    """The centre's approval seal (created for tests when the centre has none)."""
    from app.cases.queries import seals

    tree = await tenancy.tree()
    tenant_id = tree.by_slug[slug].id
    system = system_scope(tree, reason="tests: seal")
    found = [s for s in await seals.seals(system, tenant_id) if s["active"]]
    if found:
        return int(found[0]["id"])
    from app import db

    async with db.write(system):
        return await seals.insert_seal(system, tenant_id, name or f"{slug} 行政审批专用章")


async def start_for_light(
    now: datetime, light: str, legal_exceeded: bool = False, slug: str = "xa"
) -> datetime:
    """A moment of acceptance that gives a 低保 case (40/60 halves) ``light`` at ``now``.

    Searched on the centre's real calendar, so the answer holds whatever day the suite runs
    (a fixed "40 days ago" crosses the legal limit on some dates, around holidays)."""
    from datetime import timedelta

    from app.cases import deadlines, timeline

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests: a start for a light")
    cal, margin = await timeline.clock(scope, tree.by_slug[slug].id)
    for hours in range(24 * 20, 24 * 200, 3):
        start = now - timedelta(hours=hours)
        events = [{"id": 1, "action": "accepted", "at": start, "data": {}}]
        result = deadlines.compute(40, 60, events, cal, now, margin)
        if result.light == light and bool(result.legal_exceeded) == legal_exceeded:
            return start
    raise AssertionError(f"no moment of acceptance gives {light} (legal {legal_exceeded})")
