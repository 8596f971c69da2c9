"""Cross-file checks of loaded manifests: parents, references, names, calendar days; order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from app.tenancy.manifests import Loaded, RegionalDaySpec


@dataclass(frozen=True)
class Known:
    """A centre already in the database: its kind and its parent's slug."""

    kind: str
    parent: str | None


def check(
    loaded: list[Loaded],
    problems: list[str],
    known: dict[str, Known] | None = None,
    known_departments: dict[str, set[str]] | None = None,
) -> None:
    """Cross-file rules: unique slugs, parents exist, references resolve, names agree."""
    by_slug: dict[str, Loaded] = {}
    for item in loaded:
        t = item.manifest.tenant
        if t is None:
            m = item.manifest
            if m.departments or m.staff or m.windows:
                problems.append(
                    f"{item.path}: tenant: required when the file lists a centre's data"
                )
            continue
        if t.slug in by_slug:
            problems.append(
                f"{item.path}: tenant.slug: {t.slug!r} is also in {by_slug[t.slug].path}"
            )
        by_slug[t.slug] = item
    known = known or {}
    departments: dict[str, set[str]] = dict(known_departments or {})
    for slug, item in by_slug.items():
        departments[slug] = {d.code for d in item.manifest.departments}
    names: dict[str, tuple[str, Path]] = {}
    for item in by_slug.values():
        m, t, path = item.manifest, item.manifest.tenant, item.path
        assert t is not None
        if t.kind == "division" and t.parent:
            problems.append(f"{path}: tenant.parent: a division has no parent")
        if t.kind != "division":
            if not t.parent:
                problems.append(f"{path}: tenant.parent: required for a {t.kind}")
            elif t.parent not in by_slug and t.parent not in known:
                problems.append(f"{path}: tenant.parent: unknown centre {t.parent!r}")
            else:
                parent_spec = by_slug[t.parent].manifest.tenant if t.parent in by_slug else None
                parent_kind = parent_spec.kind if parent_spec else known[t.parent].kind
                allowed = {"regiment": {"division"}, "community": {"division", "regiment"}}
                if parent_kind not in allowed[t.kind]:
                    problems.append(
                        f"{path}: tenant.parent: a {t.kind} cannot sit under a {parent_kind}"
                    )
        if m.departments and t.kind != "division":
            problems.append(f"{path}: departments: only the division owns the department list")
        visible: set[str] = set()
        chain: str | None = t.slug
        seen: set[str] = set()
        while chain and chain not in seen:
            seen.add(chain)
            visible |= departments.get(chain, set())
            in_files = by_slug.get(chain)
            if in_files and in_files.manifest.tenant:
                chain = in_files.manifest.tenant.parent
            else:
                chain = known[chain].parent if chain in known else None
        codes = [d.code for d in m.departments]
        for i, code in enumerate(codes):
            if codes.index(code) != i:
                problems.append(f"{path}: departments[{i}].code: {code!r} appears twice")
        staff = {}
        for i, s in enumerate(m.staff):
            if s.username in staff:
                problems.append(f"{path}: staff[{i}].username: {s.username!r} appears twice")
            staff[s.username] = s
            if s.username in names and names[s.username][0] != s.name:
                problems.append(
                    f"{path}: staff[{i}].name: {s.username!r} is called "
                    f"{names[s.username][0]!r} in {names[s.username][1]}"
                )
            names.setdefault(s.username, (s.name, path))
            for j, d in enumerate(s.departments):
                if d not in visible:
                    problems.append(
                        f"{path}: staff[{i}].departments[{j}]: unknown department {d!r}"
                    )
        window_codes: set[str] = set()
        for i, w in enumerate(m.windows):
            if w.code in window_codes:
                problems.append(f"{path}: windows[{i}].code: {w.code!r} appears twice")
            window_codes.add(w.code)
            for j, d in enumerate(w.departments):
                if d not in visible:
                    problems.append(
                        f"{path}: windows[{i}].departments[{j}]: unknown department {d!r}"
                    )
            for post in ("a_post", "b_post"):
                who = getattr(w, post)
                if who and who not in staff:
                    problems.append(
                        f"{path}: windows[{i}].{post}: {who!r} is not in this centre's staff"
                    )
            if w.a_post and w.a_post == w.b_post:
                problems.append(f"{path}: windows[{i}].b_post: the B post must be another person")
    _check_calendar(loaded, problems, by_slug, known)
    from app.catalogue.seed import check_items  # the catalogue's rules (imports this module)

    check_items(loaded, problems, by_slug, known, departments)
    from app.reports.seed import check_forms

    check_forms(loaded, problems, by_slug, known)

    from app.inspections.seed import check_checklists

    check_checklists(loaded, problems, by_slug, known)


def items_owner(item: Loaded) -> str | None:
    """The slug of the division owning a file's ``items``: ``division``, else its [tenant]."""
    m = item.manifest
    return m.division or (m.tenant.slug if m.tenant else None)


def owner_kind(item: Loaded, by_slug: dict[str, Loaded], known: dict[str, Known]) -> str | None:
    """The kind of the tenant owning a file's shared definitions (forms, checklists)."""
    owner = items_owner(item)
    found = by_slug.get(owner or "")
    if found is not None and found.manifest.tenant is not None:
        return found.manifest.tenant.kind
    return known[owner].kind if owner in known else None


def regional_owner(item: Loaded, spec: RegionalDaySpec) -> str | None:
    """The slug of the division a regional day belongs to."""
    return spec.division or (item.manifest.tenant.slug if item.manifest.tenant else None)


def _check_calendar(
    loaded: list[Loaded],
    problems: list[str],
    by_slug: dict[str, Loaded],
    known: dict[str, Known],
) -> None:
    """National days: each date once across all files; a published year lists its days.
    Regional days: owned by a division, each (division, date) once across all files."""
    national: dict[dt.date, Path] = {}
    regional: dict[tuple[str, dt.date], Path] = {}
    years: dict[int, Path] = {}
    for item in loaded:
        m, path = item.manifest, item.path
        for i, spec in enumerate(m.national_days):
            for day in spec.days():
                if day in national:
                    problems.append(
                        f"{path}: national_days[{i}]: {day} is also listed in {national[day]}"
                    )
                national[day] = path
        for i, r in enumerate(m.regional_days):
            owner = regional_owner(item, r)
            in_files = by_slug[owner].manifest.tenant if owner in by_slug else None
            kind = in_files.kind if in_files else (known[owner].kind if owner in known else None)
            if owner is None:
                problems.append(f"{path}: regional_days[{i}].division: required without [tenant]")
            elif m.tenant and owner != m.tenant.slug:
                problems.append(f"{path}: regional_days[{i}].division: must be this file's tenant")
            elif kind != "division":
                problems.append(
                    f"{path}: regional_days[{i}].division: {owner!r} is not a known division"
                )
            for day in r.days():
                if (owner or "", day) in regional:
                    problems.append(
                        f"{path}: regional_days[{i}]: {day} is also listed in "
                        f"{regional[(owner or '', day)]}"
                    )
                regional[(owner or "", day)] = path
        if m.calendar_year is None:
            continue
        year = m.calendar_year.year
        if year in years:
            problems.append(f"{path}: calendar_year.year: {year} is also in {years[year]}")
        years[year] = path
        if not m.national_days:
            problems.append(f"{path}: national_days: a published year lists its national days")
        for i, spec in enumerate(m.national_days):
            if spec.date.year != year:
                problems.append(f"{path}: national_days[{i}].date: not in {year}")


def ordered(loaded: list[Loaded]) -> list[Loaded]:
    """Parents before children."""
    tenants = {i.manifest.tenant.slug: i for i in loaded if i.manifest.tenant}
    out: list[Loaded] = [i for i in loaded if i.manifest.tenant is None]
    done: set[str] = set()

    def visit(slug: str) -> None:
        if slug in done or slug not in tenants:
            return
        done.add(slug)
        parent = tenants[slug].manifest.tenant.parent  # type: ignore[union-attr]
        if parent:
            visit(parent)
        out.append(tenants[slug])

    for slug in sorted(tenants):
        visit(slug)
    return out
