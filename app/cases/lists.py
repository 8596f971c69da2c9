"""The case lists: which tabs a user has, filters read from the query string, paging, and
rows made safe to show (personal data masked).

Filters come from a GET form and links, so a value that makes no sense is dropped (the
list shows everything it would without it) rather than refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from app.cases import identity, workflow
from app.cases.queries import lists as queries
from app.cases.queries.lists import CaseFilter
from app.catalogue.content import KINDS
from app.tenancy.scope import TenantScope, Tree
from app.web.i18n import lazy_gettext as _l

PAGE_SIZE = 25
# Work still to do: the open states, and a concluded case waiting to be delivered.
ACTIVE = workflow.OPEN | {"concluded"}

TABS = {
    "mine": _l("My cases"),
    "window": _l("My window's queue"),
    "centre": _l("This centre"),
    "escalated": _l("Escalated to us"),
    "repeat": _l("Repeat notices"),
    "subtree": _l("All centres"),
}
DUE = {"soon": _l("Due soon (yellow)"), "overdue": _l("Overdue (red or past the legal limit)")}
_HASH = re.compile(r"^[0-9a-f]{64}$")
_CODE = re.compile(r"^[0-9A-Za-z]{1,32}$")
_SLUG = re.compile(r"^[a-z0-9-]{1,40}$")


@dataclass(frozen=True)
class Filters:
    tab: str
    state: str = ""
    item: str = ""
    kind: str = ""
    light: str = ""
    due: str = ""
    urgent: bool = False
    paused: bool = False
    centre: str = ""  # a centre's slug (the subtree and queue tabs)
    q: str = ""  # what the search box shows (a masked ID when searching by ID)
    idh: str = ""  # the keyed hash of an ID searched for (never the ID itself)
    page: int = 1

    @property
    def active(self) -> bool:
        """Any filter or search beyond the tab."""
        return bool(
            self.state
            or self.item
            or self.kind
            or self.light
            or self.due
            or self.urgent
            or self.paused
            or self.centre
            or self.q
            or self.idh
        )

    @property
    def narrowed(self) -> int:
        """How many filters besides the search are set (shown on the folded filters)."""
        return sum(
            bool(v)
            for v in (
                self.state,
                self.item,
                self.kind,
                self.light,
                self.due,
                self.urgent,
                self.paused,
                self.centre,
            )
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string of this list (minus empty values), with ``changes``."""
        values = replace(self, **changes)
        out = {
            "tab": values.tab,
            "state": values.state,
            "item": values.item,
            "kind": values.kind,
            "light": values.light,
            "due": values.due,
            "urgent": "1" if values.urgent else "",
            "paused": "1" if values.paused else "",
            "centre": values.centre,
            "q": values.q,
            "idh": values.idh,
            "page": str(values.page) if values.page > 1 else "",
        }
        return {k: v for k, v in out.items() if v}

    def query(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))


def tabs_for(scope: TenantScope, tree: Tree) -> list[str]:
    """The tabs this user has at this centre, in order."""
    tenant_id = scope.own()
    out = []
    if scope.user_id is not None and tenant_id in scope.write_ids and scope.can("case.register"):
        out += ["mine", "window"]
    out.append("centre")
    if scope.can("case.escalated") and tree.children(tenant_id):
        out.append("escalated")
    if scope.can("subtree.view"):
        out.append("repeat")
        if len(scope.read_ids) > 1:
            out.append("subtree")
    return out


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "on", "true", "yes")


def _page(value: str | None) -> int:
    try:
        number = int(value or "1")
    except ValueError:
        return 1
    return number if 1 <= number <= 100_000 else 1


def parse(
    params: Mapping[str, str],
    tabs: list[str],
    centres: Mapping[str, int],
    prefer: str | None = None,
) -> Filters:
    """Filters from the query string; unknown values are dropped."""

    def pick(name: str, allowed: Mapping[str, Any] | list[str]) -> str:
        value = (params.get(name) or "").strip()
        return value if value in allowed else ""

    # Clerks start with their own cases, managers with the centre's, supervisors with the
    # queue they act on.
    default = "escalated" if "escalated" in tabs and "mine" not in tabs else tabs[0]
    if prefer in tabs and "escalated" not in tabs:
        default = prefer
    tab = pick("tab", tabs) or default
    item = (params.get("item") or "").strip()
    centre = (params.get("centre") or "").strip()
    q = " ".join((params.get("q") or "").replace("\x00", " ").split())[:60]
    idh = (params.get("idh") or "").strip().lower()
    if not _HASH.match(idh) or (q and "*" not in q):
        idh = ""  # the search box was changed: search what it says now
    elif not q:
        idh = ""
    if not idh and identity.id_kind_of(identity.normalise(q)):
        idh, q = identity.id_hash(q), identity.mask_id(q)
    return Filters(
        tab=tab,
        state=pick("state", workflow.STATES),
        item=item if _CODE.match(item) else "",
        kind=pick("kind", KINDS),
        light=pick("light", workflow.LIGHTS),
        due=pick("due", DUE),
        urgent=_flag(params.get("urgent")),
        paused=_flag(params.get("paused")),
        centre=centre if _SLUG.match(centre) and centre in centres else "",
        q=q,
        idh=idh,
        page=_page(params.get("page")),
    )


def case_filter(
    f: Filters,
    tab: str,
    scope: TenantScope,
    centres: Mapping[str, int],
    window_ids: frozenset[int],
) -> CaseFilter:
    """The query of one tab with the filters applied."""
    tenant_id = scope.own()
    wide = frozenset({centres[f.centre]}) if f.centre else scope.read_ids
    tabs: dict[str, dict[str, Any]] = {
        "mine": {
            "tenant_ids": frozenset({tenant_id}),
            "owner_id": scope.user_id,
            "states": ACTIVE,
        },
        "window": {
            "tenant_ids": frozenset({tenant_id}),
            "window_ids": window_ids,
            "states": ACTIVE,
        },
        "centre": {"tenant_ids": frozenset({tenant_id})},
        "escalated": {
            "tenant_ids": wide,
            "queue_tenant_id": tenant_id,
            "exclude_tenant": tenant_id,
        },
        "repeat": {"tenant_ids": wide, "min_notices": 2},
        "subtree": {"tenant_ids": wide},
    }
    base = tabs[tab]
    states = base.pop("states", None)
    if f.state:
        states = frozenset({f.state}) & (states or frozenset({f.state}))
    return CaseFilter(
        **base,
        states=states,
        item_code=f.item,
        kind=f.kind,
        light=f.light,
        due=f.due,
        urgent=f.urgent,
        paused=f.paused,
        text="" if f.idh else f.q,
        id_hash=f.idh,
    )


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    offset: int

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + PAGE_SIZE, self.total)


def paging(total: int, asked: int) -> Page:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(1, asked), pages)
    return Page(number, pages, total, (number - 1) * PAGE_SIZE)


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A list row with personal data masked (the raw ID and phone are dropped)."""
    out = {k: v for k, v in row.items() if k not in ("id_number", "phone", "applicant_name")}
    name = row["applicant_name"] or ""
    out["applicant"] = identity.mask_name(name) if row["applicant_kind"] == "person" else name
    out["id_masked"] = identity.mask_id(row["id_number"] or "")
    out["phone_masked"] = identity.mask_phone(row["phone"] or "")
    return out


async def load(scope: TenantScope, tree: Tree, params: Mapping[str, str]) -> dict[str, Any]:
    """Everything the list page shows: tabs with counts, the filters, one page of rows."""
    tenant_id = scope.own()
    tabs = tabs_for(scope, tree)
    centres = {tree.nodes[i].slug: i for i in sorted(scope.read_ids) if i in tree.nodes}
    f = parse(params, tabs, centres, prefer="centre" if scope.can("case.handover") else None)
    windows = (
        await queries.my_window_ids(scope, tenant_id, scope.user_id)
        if "window" in tabs and scope.user_id is not None
        else frozenset()
    )
    counts = {
        tab: await queries.count(scope, case_filter(f, tab, scope, centres, windows))
        for tab in tabs
    }
    page = paging(counts[f.tab], f.page)
    rows = await queries.cases(
        scope, case_filter(f, f.tab, scope, centres, windows), page.offset, PAGE_SIZE
    )
    wide = f.tab in ("escalated", "repeat", "subtree")
    return {
        "f": f,
        "tabs": [(t, TABS[t], counts[t]) for t in tabs],
        "rows": [shown(r) for r in rows],
        "page": page,
        "wide": wide,
        "centres": (
            sorted(
                ((slug, tree.nodes[i].name) for slug, i in centres.items()),
                key=lambda c: c[0],
            )
            if wide and len(centres) > 1
            else []
        ),
        "items": await queries.item_choices(
            scope, scope.read_ids if wide else frozenset({tenant_id})
        ),
        "no_window": "window" in tabs and not windows,
    }
