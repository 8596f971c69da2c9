"""Onboarding manifests (TOML): the schema, loading and cross-file validation.

A malformed manifest is rejected with its file, the key path and the reason; nothing is
applied unless every file is valid (see ``apply.py``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SLUG = r"^[a-z][a-z0-9-]{1,30}$"
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,63}$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Season(Strict):
    from_: str = Field(alias="from")
    morning: tuple[str, str]
    afternoon: tuple[str, str]

    @field_validator("from_")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not MONTH_DAY.match(value):
            raise ValueError("must be MM-DD, e.g. 05-01")
        return value

    @field_validator("morning", "afternoon")
    @classmethod
    def _session(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = value
        if not TIME.match(start) or not TIME.match(end):
            raise ValueError("times must be HH:MM")
        if start >= end:
            raise ValueError("a session must end after it starts")
        return value


class Hours(Strict):
    summer: Season
    winter: Season

    @model_validator(mode="after")
    def _order(self) -> Hours:
        for name, season in (("summer", self.summer), ("winter", self.winter)):
            if season.morning[1] > season.afternoon[0]:
                raise ValueError(f"{name}: the morning session must end before the afternoon one")
        if self.summer.from_ == self.winter.from_:
            raise ValueError("summer and winter must start on different days")
        return self


class TenantSpec(Strict):
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=2, max_length=120)
    kind: Literal["division", "regiment", "community"]
    parent: str | None = Field(default=None, pattern=SLUG)
    status: Literal["pilot", "active", "suspended"] = "pilot"
    address: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    hours: Hours


class DepartmentSpec(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=2, max_length=120)
    short_name: str = Field(min_length=1, max_length=40)


class StaffSpec(Strict):
    username: str = Field(pattern=USERNAME)
    name: str = Field(min_length=1, max_length=64)
    roles: list[Literal["supervisor", "manager", "clerk"]] = Field(min_length=1)
    title: str = Field(default="", max_length=64)
    departments: list[str] = []


class WindowSpec(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=120)
    departments: list[str] = Field(min_length=1)
    a_post: str | None = Field(default=None, pattern=USERNAME)
    b_post: str | None = Field(default=None, pattern=USERNAME)
    note: str = ""


class AdminSpec(Strict):
    username: str = Field(pattern=USERNAME)
    name: str = Field(min_length=1, max_length=64)


class DaySpec(Strict):
    """A calendar day, or a run of days (``date`` … ``until``) sharing kind and name."""

    date: dt.date
    until: dt.date | None = None
    kind: Literal["off", "work"]
    name: str = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _span(self) -> DaySpec:
        last = self.until or self.date
        if not 2000 <= self.date.year <= 2099:
            raise ValueError("the date must be between 2000 and 2099")
        if last < self.date or last.year != self.date.year or (last - self.date).days > 30:
            raise ValueError("until must be on or after date, in the same year, within 31 days")
        if self.kind == "work":
            for day in self.days():
                if day.weekday() < 5:
                    raise ValueError(f"{day} is a weekday: a make-up working day is a Sat or Sun")
        return self

    def days(self) -> list[dt.date]:
        last = self.until or self.date
        return [self.date + dt.timedelta(days=i) for i in range((last - self.date).days + 1)]


class RegionalDaySpec(DaySpec):
    """A regional day; ``division`` defaults to the file's own ``[tenant]`` (a division)."""

    division: str | None = Field(default=None, pattern=SLUG)


class CalendarYearSpec(Strict):
    """A year whose national days are published, and the notice that published them."""

    year: int = Field(ge=2000, le=2099)
    notice: str = Field(min_length=2, max_length=200)


class Manifest(Strict):
    tenant: TenantSpec | None = None
    departments: list[DepartmentSpec] = []
    staff: list[StaffSpec] = []
    windows: list[WindowSpec] = []
    admins: list[AdminSpec] = []
    calendar_year: CalendarYearSpec | None = None
    national_days: list[DaySpec] = []
    regional_days: list[RegionalDaySpec] = []


@dataclass
class Loaded:
    path: Path
    manifest: Manifest


class ManifestError(Exception):
    """Every problem found, each as ``file: key.path: reason``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out or "(top level)"


def files(path: Path) -> list[Path]:
    """A manifest file, or every ``*.toml`` directly in a folder (``demo/`` is separate)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*.toml") if p.is_file())


def load(path: Path) -> list[Loaded]:
    problems: list[str] = []
    loaded: list[Loaded] = []
    found = files(path)
    if not found:
        raise ManifestError([f"{path}: no manifest (*.toml) found"])
    for file in found:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: (file): not valid TOML: {exc}")
            continue
        try:
            loaded.append(Loaded(file, Manifest.model_validate(data)))
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(f"{file}: {_loc(tuple(err['loc']))}: {err['msg']}")
    if problems:
        raise ManifestError(problems)
    return loaded


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
