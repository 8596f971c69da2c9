"""Demo supervision data (``tenants/demo/supervision.toml``) for a new embedded database:
the yellow margin N of the division (through :func:`app.supervision.services.
save_yellow_days`) and one run of the light-notice sweep, per centre at the latest moment
of its service hours up to now (never after "now")."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.accounts import queries as accounts
from app.calendar import services as calendars
from app.calendar.workdays import TenantCalendar, local_day
from app.supervision import services
from app.supervision.notices.sweep import send_light_notices
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, system_scope, user_scope


async def _scope(tree: Tree, username: str, slug: str) -> TenantScope:
    user = await accounts.user_by_username(username)
    if user is None:
        raise ValueError(f"demo supervision: no user {username!r}")
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, bool(user["is_platform_admin"]))
    if scope is None:
        raise ValueError(f"demo supervision: {username} has no access to {slug}")
    return scope


def last_service_moment(cal: TenantCalendar, now: datetime) -> datetime | None:
    """The latest moment up to ``now`` inside one of the calendar's service sessions."""
    day = local_day(now)
    for _i in range(21):
        for start, end in reversed(cal.sessions(day)):
            if start <= now:
                return min(now, end - timedelta(minutes=1))
        day -= timedelta(days=1)
    return None


async def load(path: Path) -> list[str]:
    spec: dict[str, Any] = tomllib.loads((path / "supervision.toml").read_text(encoding="utf-8"))
    tree = await tenancy.tree()
    lines: list[str] = []
    for item in spec.get("settings", []):
        slug = str(item["tenant"])
        scope = await _scope(tree, str(item["by"]), slug)
        await services.save_yellow_days(
            None,
            scope,
            tree,
            tree.by_slug[slug].id,
            int(item["yellow_days"]),
            str(item.get("note", "")),
            None,
        )
        lines.append(f"Supervision: {slug} sets the yellow margin N = {item['yellow_days']}.")
    if spec.get("notices", {}).get("sweep"):
        now = datetime.now(UTC)
        system = system_scope(tree, reason="demo: light notices")
        sent = 0
        for node in sorted(tree.nodes.values(), key=lambda n: n.slug):
            cal = await calendars.load(system, node.id, tree)
            moment = last_service_moment(cal, now)
            if moment is not None:
                sent += await send_light_notices(moment, only=[node.id])
        lines.append(f"Supervision: light notices sent for {sent} yellow or red cases.")
    return lines
