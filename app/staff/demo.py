"""Demo work logs and assessment rules (``tenants/demo/staff.toml``), for a new embedded
database only (called by :func:`app.demo.load_demo` after cases and reports).

Every step goes through the real services with ``now=`` in the past: each window's A post
holder writes the log at 18:00 of the day (:func:`app.staff.worklog.create`), the manager
reviews it at 09:30 the next day (:func:`app.staff.worklog.review`), never after "now"; the
division's supervisor starts the recommended assessment rules
(:func:`app.staff.scheme_service.use_recommended`).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.accounts import queries as accounts
from app.calendar import services as calendar
from app.calendar.workdays import SHANGHAI
from app.staff import scheme_service, worklog
from app.staff.queries import assessment as scheme_queries
from app.staff.queries import worklogs as queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, user_scope


async def _scope(tree: Tree, slug: str, username: str) -> TenantScope:
    user = await accounts.user_by_username(username)
    if user is None:
        raise LookupError(f"no user {username!r}")
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, False)
    if scope is None:
        raise LookupError(f"{username!r} is not a member of {slug!r}")
    return scope


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


async def _days_back(scope: TenantScope, tenant_id: int, count: int, now: datetime) -> list[date]:
    """The last ``count`` working days before today, latest first."""
    cal = await calendar.load(scope, tenant_id)
    out: list[date] = []
    day = worklog.today(now) - timedelta(days=1)
    while len(out) < count:
        if cal.days.is_working_day(day):
            out.append(day)
        day -= timedelta(days=1)
    return out


async def _centre(
    tree: Tree, slug: str, spec: dict[str, Any], common: dict[str, Any], now: datetime
) -> str:
    manager = await _scope(tree, slug, spec["manager"])
    tenant_id = tree.by_slug[slug].id
    days = await _days_back(manager, tenant_id, int(common.get("days", 20)), now)
    unreviewed = int(common.get("unreviewed", 2))
    offline = [int(n) for n in common.get("offline", [0])] or [0]
    events = spec.get("events", [])
    written = reviewed = skipped = 0
    for w_index, window in enumerate(await tenancy.windows(manager, tenant_id)):
        posts = await queries.posts(manager, tenant_id, window["id"])
        writer_post = next((p for p in posts if p["post"] == "A"), None)
        writer = manager
        if writer_post is not None:
            user = await accounts.user_by_id(int(writer_post["user_id"]))
            if user is not None:
                writer = await _scope(tree, slug, user.username)
        for ago, day in enumerate(days, start=1):
            if await queries.log_for(manager, tenant_id, window["id"], day) is not None:
                skipped += 1
                continue
            mine = [e for e in events if e["ago"] == ago and e["window"] == window["code"]]
            attendance = [
                next((e["attendance"] for e in mine if e.get("post") == p["post"]), "present")
                for p in posts
            ]
            notes = [
                next((e.get("note", "") for e in mine if e.get("post") == p["post"]), "")
                for p in posts
            ]
            entry = worklog.Entry(
                attendance=attendance,
                notes=notes,
                offline=str(offline[(ago + w_index) % len(offline)]),
                style_notes=next((e["style"] for e in mine if "style" in e), ""),
                discipline_notes=next((e["discipline"] for e in mine if "discipline" in e), ""),
                note="",
            )
            log_id = await worklog.create(
                None, writer, tenant_id, window["id"], day, entry, now=_local(day, 18)
            )
            written += 1
            review_at = _local(day + timedelta(days=1), 9, 30)
            if ago > unreviewed and review_at < now:
                log = await queries.log(manager, log_id)
                assert log is not None
                comment = "已阅，注意改进。" if any("discipline" in e for e in mine) else "已阅"
                await worklog.review(
                    None, manager, log, comment, int(log["lock_version"]), now=review_at
                )
                reviewed += 1
    kept = f", {skipped} already there" if skipped else ""
    return f"{slug} {written} logs ({reviewed} reviewed{kept})"


async def load(path: Path, now: datetime | None = None) -> list[str]:
    spec = tomllib.loads((path / "staff.toml").read_text(encoding="utf-8"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tree = await tenancy.tree()
    done = []
    for slug, centre in spec.get("centres", {}).items():
        if slug not in tree.by_slug:
            continue
        try:
            done.append(await _centre(tree, slug, centre, spec, now))
        except LookupError as exc:
            done.append(f"{slug} skipped: {exc}")
    lines = [f"Demo work logs: {'; '.join(done)}."]
    scheme = spec.get("scheme", {})
    division = scheme.get("division", "")
    if division in tree.by_slug:
        scope = await _scope(tree, division, scheme["by"])
        if await scheme_queries.scheme_of(scope, tree.by_slug[division].id) is None:
            await scheme_service.use_recommended(None, scope, "division", now=now)
            lines.append(f"Demo assessment rules: the recommended rules, version 1, at {division}.")
        else:
            lines.append(f"Demo assessment rules at {division} are already defined; kept.")
    return lines
