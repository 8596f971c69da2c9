"""Apply manifests: upsert tenants, departments, staff, windows and catalogue items; never delete.

Everything runs in one transaction: a problem anywhere leaves the database untouched.
A second run over the same files changes nothing and says so.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app import db
from app.accounts import queries as accounts
from app.accounts.roles import parse_roles
from app.calendar import queries as calendar
from app.calendar.services import calendar_changed
from app.catalogue import seed
from app.tenancy import manifests, queries
from app.tenancy.manifests import Known, Loaded, ManifestError
from app.tenancy.scope import TenantScope, system_scope


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    changed: list[str] = field(default_factory=list)
    # Calendar days changed: (owner tenant id, or None for national data, first date).
    calendar: list[tuple[int | None, dt.date]] = field(default_factory=list)
    # Catalogue items given a new version: (template id, version id), announced after commit.
    revised_items: list[tuple[int, int]] = field(default_factory=list)

    def note(self, what: str, status: str, label: str) -> None:
        self.counts[f"{what}.{status}"] += 1
        if status != "unchanged":
            self.changed.append(f"{status} {what} {label}")

    @property
    def has_changes(self) -> bool:
        return bool(self.changed)

    def summary(self, verbose: bool = False) -> str:
        if not self.has_changes:
            total = sum(self.counts.values())
            return f"No changes: all {total} records in the manifests are already up to date."
        if verbose:
            return "\n".join(self.changed)
        parts = []
        for what in (
            "admin",
            "tenant",
            "department",
            "staff",
            "window",
            "calendar_year",
            "national_day",
            "regional_day",
            "item",
        ):
            done = [
                f"{self.counts[f'{what}.{status}']} {status}"
                for status in ("created", "updated", "unchanged")
                if self.counts[f"{what}.{status}"]
            ]
            if done:
                parts.append(f"{what}: {', '.join(done)}")
        return "Applied manifests — " + "; ".join(parts)


async def _known() -> tuple[dict[str, Known], dict[str, set[str]]]:
    tree = await queries.tree()
    scope = system_scope(tree, reason="manifest check")
    by_owner: dict[str, set[str]] = {}
    for node in tree.nodes.values():
        if node.kind == "division":
            by_owner[node.slug] = set((await queries.departments_of(scope, node.id)).keys())
    known = {
        n.slug: Known(n.kind, tree.nodes[n.parent_id].slug if n.parent_id else None)
        for n in tree.nodes.values()
    }
    return known, by_owner


async def apply_path(path: Path, actor: str = "manifest") -> Report:
    loaded = manifests.load(path)
    known, departments = await _known()
    problems: list[str] = []
    manifests.check(loaded, problems, known, departments)
    if problems:
        raise ManifestError(problems)
    report = Report()
    tree = await queries.tree()
    scope = system_scope(tree, reason=f"apply manifests {path}")
    async with db.write(scope):
        for item in manifests.ordered(loaded):
            scope = await _apply_one(scope, item, report)
        for item in loaded:  # regional days listed apart from their division's file
            if item.manifest.tenant is None:
                await _regional_calendar(scope, item, report)
        for item in loaded:  # catalogue items, once every division and department exists
            await _items(scope, item, report)
        for item in loaded:  # report forms of the divisions
            await _report_forms(scope, item, report)
        for item in loaded:  # checklists of the divisions
            await _checklists(scope, item, report)
        if report.has_changes:
            await accounts.append_audit(
                None,
                None,
                actor,
                "manifest.applied",
                "manifest",
                str(path)[-64:],  # the column's width: the end of a long path names it
                {"changes": len(report.changed), "path": str(path)},
                "",
            )
    await _calendar_changed(report)
    await seed.announce(report.revised_items)
    return report


async def _items(scope: TenantScope, item: Loaded, report: Report) -> None:
    if not item.manifest.items:
        return
    slug = manifests.items_owner(item) or ""
    owner = await queries.tenant_by_slug(slug)
    assert owner is not None  # checked before
    report.revised_items += await seed.apply_items(
        scope, owner["id"], slug, item.manifest.items, report.note
    )


async def _report_forms(scope: TenantScope, item: Loaded, report: Report) -> None:
    if not item.manifest.report_forms:
        return
    from app.reports import seed as report_seed

    slug = manifests.items_owner(item) or ""
    owner = await queries.tenant_by_slug(slug)
    assert owner is not None  # checked before
    await report_seed.apply_forms(scope, owner["id"], item.manifest.report_forms, report.note)


async def _checklists(scope: TenantScope, item: Loaded, report: Report) -> None:
    if not item.manifest.checklists:
        return
    from app.inspections import seed as checklist_seed

    slug = manifests.items_owner(item) or ""
    owner = await queries.tenant_by_slug(slug)
    assert owner is not None  # checked before
    await checklist_seed.apply_checklists(scope, owner["id"], item.manifest.checklists, report.note)


async def _calendar_changed(report: Report) -> None:
    """After commit: tell the deadline recomputation which tenants and dates changed."""
    if not report.calendar:
        return
    tree = await queries.tree()
    national = [day for owner, day in report.calendar if owner is None]
    if national:
        await calendar_changed(tree.nodes, min(national))
    for owner in {o for o, _day in report.calendar if o is not None}:
        first = min(day for o, day in report.calendar if o == owner)
        await calendar_changed(tree.subtree(owner), first)


async def _national_calendar(scope: TenantScope, m: manifests.Manifest, report: Report) -> None:
    """National days (one row per date of each run) and the published year; never deletes."""
    for spec in m.national_days:
        for day in spec.days():
            status = await calendar.upsert_national_day(scope, day, spec.kind, spec.name)
            report.note("national_day", status, day.isoformat())
            if status != "unchanged":
                report.calendar.append((None, day))
    if m.calendar_year is not None:
        year = m.calendar_year
        status = await calendar.upsert_calendar_year(scope, year.year, year.notice)
        report.note("calendar_year", status, str(year.year))
        if status == "created":
            report.calendar.append((None, dt.date(year.year, 1, 1)))


async def _regional_calendar(scope: TenantScope, item: Loaded, report: Report) -> None:
    for spec in item.manifest.regional_days:
        slug = manifests.regional_owner(item, spec)
        owner = await queries.tenant_by_slug(slug or "")
        assert owner is not None  # checked before
        tenant_id = owner["id"]
        for day in spec.days():
            status = await calendar.upsert_regional_day(scope, tenant_id, day, spec.kind, spec.name)
            report.note("regional_day", status, f"{slug}/{day.isoformat()}")
            if status != "unchanged":
                report.calendar.append((tenant_id, day))


async def _apply_one(scope: TenantScope, item: Loaded, report: Report) -> TenantScope:
    m = item.manifest
    for admin in m.admins:
        row = await accounts.user_by_username(admin.username)
        if row is None:
            await accounts.create_user(admin.username, admin.name, admin=True)
            report.note("admin", "created", admin.username)
        elif not row["is_platform_admin"] or row["display_name"] != admin.name:
            await accounts.update_user(row["id"], is_platform_admin=True, display_name=admin.name)
            report.note("admin", "updated", admin.username)
        else:
            report.note("admin", "unchanged", admin.username)
    await _national_calendar(scope, m, report)
    t = m.tenant
    if t is None:
        return scope
    parent_id = None
    if t.parent:
        parent = await queries.tenant_by_slug(t.parent)
        assert parent is not None  # checked before
        parent_id = parent["id"]
    values = {
        "name": t.name,
        "kind": t.kind,
        "parent": parent_id,
        "status": t.status,
        "address": t.address,
        "phone": t.phone,
        "hours": t.hours.model_dump(by_alias=True, mode="json"),
    }
    row = await queries.tenant_by_slug(t.slug)
    if row is None:
        tenant_id = await queries.create_tenant(scope, slug=t.slug, **values)
        scope = scope.with_tenant(tenant_id)
        await db.set_scope(scope)
        report.note("tenant", "created", t.slug)
    else:
        tenant_id = row["id"]
        changed = {k: v for k, v in values.items() if _norm(row[_column(k)]) != _norm(v)}
        if changed:
            await queries.update_tenant(scope, tenant_id, **changed)
            report.note("tenant", "updated", f"{t.slug} ({', '.join(sorted(changed))})")
        else:
            report.note("tenant", "unchanged", t.slug)

    for i, d in enumerate(m.departments):
        status = await queries.upsert_department(
            scope, tenant_id, d.code, name=d.name, short_name=d.short_name, sort=i
        )
        report.note("department", status, f"{t.slug}/{d.code}")

    visible = {}
    for owner in [tenant_id, *_ancestors(await queries.tree(), tenant_id)]:
        visible.update(
            {c: r["id"] for c, r in (await queries.departments_of(scope, owner)).items()}
        )

    users: dict[str, int] = {}
    for s in m.staff:
        users[s.username] = await _staff(scope, tenant_id, t.slug, s, visible, report)

    for i, w in enumerate(m.windows):
        window_id, status = await queries.upsert_window(
            scope,
            tenant_id,
            w.code,
            [visible[c] for c in w.departments],
            name=w.name,
            note=w.note,
            sort=i,
        )
        for post, who in (("A", w.a_post), ("B", w.b_post)):
            if who and await accounts.set_window_post(
                scope, tenant_id, window_id, post, users[who]
            ):
                status = "updated" if status == "unchanged" else status
        report.note("window", status, f"{t.slug}/{w.code}")
    await _regional_calendar(scope, item, report)
    return scope


async def _staff(
    scope: TenantScope,
    tenant_id: int,
    slug: str,
    s: manifests.StaffSpec,
    visible: dict[str, int],
    report: Report,
) -> int:
    status = "unchanged"
    row = await accounts.user_by_username(s.username)
    if row is None:
        user_id = await accounts.create_user(s.username, s.name)
        status = "created"
    else:
        user_id = row["id"]
        if row["display_name"] != s.name:
            await accounts.update_user(user_id, display_name=s.name)
            status = "updated"
    member = await accounts.membership_of(scope, tenant_id, user_id)
    roles = frozenset(s.roles)
    if member is None:
        member_id = await accounts.add_membership(scope, tenant_id, user_id, roles, s.title)
        status = "created"
    else:
        member_id = member["id"]
        if parse_roles(member["roles"]) != roles or member["title"] != s.title:
            await accounts.update_membership(scope, member_id, roles=roles, title=s.title)
            status = "updated" if status == "unchanged" else status
    wanted = sorted(visible[c] for c in s.departments)
    if await accounts.member_department_ids(scope, member_id) != wanted:
        await accounts.set_member_departments(scope, tenant_id, member_id, wanted)
        status = "updated" if status == "unchanged" else status
    report.note("staff", status, f"{slug}/{s.username}")
    return user_id


def _ancestors(tree, tenant_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return tree.ancestors(tenant_id)


def _norm(value: object) -> object:
    """Compare JSON read back from the database with the manifest's plain values."""
    if isinstance(value, tuple):
        return [_norm(v) for v in value]
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _column(key: str) -> str:
    """Result rows are keyed by column name: foreign keys end in ``_id``."""
    return "parent_id" if key == "parent" else key
