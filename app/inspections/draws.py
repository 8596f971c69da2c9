"""Random draws (双随机), reproducible from a recorded seed.

*Centres and inspectors for a month*: from the division's subtree (regiment and community
centres not suspended; the division itself never) draw N centres, then for each drawn centre
M inspectors from the division's active supervisors (optionally leaving out anyone who is a
member of that centre).  *Cases for a file review*: K cases of one centre concluded in a date
range.

Each draw uses ``random.Random(f"{seed}:{label}")`` over the SORTED candidate ids, so the
stored seed and pool give the same result again: :func:`rerun` does exactly that for the
"verify" on the draw's page.  The seed is ``secrets.token_hex(8)`` unless one is given.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app import db
from app.inspections.queries import draws as queries
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import gettext as _

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_INSPECTORS = 10
MAX_CASES = 100


class DrawError(ValueError):
    """Bad draw parameters: input name → message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def new_seed() -> str:
    return secrets.token_hex(8)


def pick(seed: str, label: str, pool: list[int], count: int) -> list[int]:
    """``count`` of ``pool`` (all of it when smaller), drawn reproducibly, sorted."""
    candidates = sorted(pool)
    rng = random.Random(f"{seed}:{label}")
    return sorted(rng.sample(candidates, min(count, len(candidates))))


def run_centres(seed: str, pool: dict[str, Any], centres: int, inspectors: int) -> dict[str, Any]:
    chosen = pick(seed, "centres", pool.get("centres", []), centres)
    exclude = pool.get("exclude", {})
    out = []
    for centre in chosen:
        left_out = set(exclude.get(str(centre), []))
        candidates = [u for u in pool.get("inspectors", []) if u not in left_out]
        out.append(
            {
                "centre": centre,
                "inspectors": pick(seed, f"inspectors:{centre}", candidates, inspectors),
            }
        )
    return {"centres": out}


def run_cases(seed: str, pool: dict[str, Any], count: int) -> dict[str, Any]:
    return {"cases": pick(seed, "cases", pool.get("cases", []), count)}


def rerun(draw: dict[str, Any]) -> dict[str, Any]:
    """The result drawn again from the stored seed, pool and counts."""
    params = draw["params"] or {}
    if draw["kind"] == "centres":
        return run_centres(
            draw["seed"], draw["pool"], int(params["centres"]), int(params["inspectors"])
        )
    return run_cases(draw["seed"], draw["pool"], int(params["cases"]))


def matches(draw: dict[str, Any]) -> bool:
    return bool(rerun(draw) == draw["result"])


def centre_candidates(tree: Tree, division_id: int) -> list[int]:
    """The regiment and community centres under a division that are not suspended."""
    return sorted(
        i
        for i in tree.subtree(division_id)
        if i != division_id
        and tree.nodes[i].kind in ("regiment", "community")
        and tree.nodes[i].status != "suspended"
    )


def parse_month(text: str) -> int | None:
    m = re.match(r"^(\d{4})-(\d{2})$", (text or "").strip())
    if not m or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2099:
        return None
    return int(m[1]) * 100 + int(m[2])


def _count(text: Any, name: str, low: int, high: int, problems: dict[str, str]) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if not low <= value <= high:
        problems[name] = _("Enter a whole number from %(low)s to %(high)s", low=low, high=high)
    return value


def _seed(text: str | None, problems: dict[str, str]) -> str:
    text = (text or "").strip()
    if not text:
        return new_seed()
    if not SEED.match(text):
        problems["seed"] = _("Seed: letters, digits, - and _ (at most 64)")
    return text


@dataclass
class CentresAsk:
    month: str
    centres: str
    inspectors: str
    exclude_members: bool = True
    seed: str = ""


async def draw_centres(scope: TenantScope, tree: Tree, division_id: int, ask: CentresAsk) -> int:
    """Draw centres and inspectors for a month; returns the draw id."""
    problems: dict[str, str] = {}
    month = parse_month(ask.month)
    if month is None:
        problems["month"] = _("Month: choose a month (yyyy-mm)")
    candidates = centre_candidates(tree, division_id)
    n = _count(ask.centres, "centres", 1, max(1, len(candidates)), problems)
    m = _count(ask.inspectors, "inspectors", 1, MAX_INSPECTORS, problems)
    seed = _seed(ask.seed, problems)
    inspectors = [r["user_id"] for r in await queries.supervisors(scope, division_id)]
    if not candidates:
        problems["centres"] = _("There is no centre under the division to draw from.")
    if not inspectors:
        problems["inspectors"] = _("The division has no active supervisor to draw from.")
    if problems:
        raise DrawError(problems)
    exclude: dict[str, list[int]] = {}
    if ask.exclude_members:
        members = await queries.member_ids(scope, candidates)
        for centre in candidates:
            overlap = sorted(members.get(centre, set()) & set(inspectors))
            if overlap:
                exclude[str(centre)] = overlap
    pool = {"centres": candidates, "inspectors": sorted(inspectors), "exclude": exclude}
    params = {"centres": n, "inspectors": m, "exclude_members": ask.exclude_members}
    result = run_centres(seed, pool, n, m)
    async with db.write(scope):
        return await queries.insert_draw(
            scope,
            division_id,
            kind="centres",
            month=month,
            seed=seed,
            params=params,
            pool=pool,
            result=result,
            created_by=scope.user_id,
        )


def _day(text: str, name: str, problems: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        problems[name] = _("Enter a date (yyyy-mm-dd)")
        return None


@dataclass
class CasesAsk:
    centre: str  # slug
    date_from: str
    date_to: str
    cases: str
    seed: str = ""


async def draw_cases(scope: TenantScope, tree: Tree, division_id: int, ask: CasesAsk) -> int:
    """Draw concluded cases of one centre for a file review; returns the draw id."""
    problems: dict[str, str] = {}
    node = tree.by_slug.get((ask.centre or "").strip())
    if node is None or node.id not in centre_candidates(tree, division_id):
        problems["centre"] = _("Choose a centre of the division")
    start = _day(ask.date_from, "date_from", problems)
    end = _day(ask.date_to, "date_to", problems)
    if start and end and end < start:
        problems["date_to"] = _("The end date cannot be before the start date")
    if start and end and (end - start).days > 366:
        problems["date_to"] = _("A file review covers at most one year")
    k = _count(ask.cases, "cases", 1, MAX_CASES, problems)
    seed = _seed(ask.seed, problems)
    if problems or node is None or start is None or end is None:
        raise DrawError(problems)
    since = datetime.combine(start, time(0), SHANGHAI)
    until = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI)
    found = await queries.concluded_cases(scope, node.id, since, until)
    if not found:
        raise DrawError({"date_from": _("The centre concluded no case in this period.")})
    pool = {"cases": [r["id"] for r in found]}
    params = {"cases": k, "from": start.isoformat(), "to": end.isoformat()}
    result = run_cases(seed, pool, k)
    async with db.write(scope):
        return await queries.insert_draw(
            scope,
            node.id,
            kind="cases",
            month=end.year * 100 + end.month,
            seed=seed,
            params=params,
            pool=pool,
            result=result,
            created_by=scope.user_id,
        )
