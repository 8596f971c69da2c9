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
from typing import Any, Literal

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
ITEM_CODE = r"^[0-9A-Za-z][0-9A-Za-z-]{3,31}$"  # as app.catalogue.versions.CODE_PATTERN


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


class ItemSpec(BaseModel):
    """A catalogue item (事项) of a division: its 基本编码, an optional first effective date and
    every field of the version content, checked by ``app.catalogue.content.validate`` in
    ``check`` (so the rules are the same as in the editor and the .xlsx import)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    code: str = Field(pattern=ITEM_CODE)
    effective_from: dt.date | None = None

    def content(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ReportFormSpec(BaseModel):
    """A report form (月报) of a division: its code and title, an optional first effective
    date and the definition (filers, due and lock days, sections, rules), checked by
    ``app.reports.definition.validate`` in ``check``."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    title: str = Field(min_length=1, max_length=200)
    effective_from: dt.date | None = None

    def definition(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ChecklistSpec(BaseModel):
    """A checklist (督促检查表) of a division: its code, title, kind, an optional first
    effective date and the definition (sections of scored items), checked by
    ``app.inspections.definition.validate`` in ``check``."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["centre", "discipline"] = "centre"
    effective_from: dt.date | None = None

    def definition(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Manifest(Strict):
    tenant: TenantSpec | None = None
    division: str | None = Field(default=None, pattern=SLUG)  # owner of ``items``
    departments: list[DepartmentSpec] = []
    staff: list[StaffSpec] = []
    windows: list[WindowSpec] = []
    admins: list[AdminSpec] = []
    calendar_year: CalendarYearSpec | None = None
    national_days: list[DaySpec] = []
    regional_days: list[RegionalDaySpec] = []
    items: list[ItemSpec] = []
    report_forms: list[ReportFormSpec] = []
    checklists: list[ChecklistSpec] = []


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


# The cross-file checks live beside this module (kept apart to stay small).
from app.tenancy.manifest_checks import (  # noqa: E402
    Known,
    check,
    items_owner,
    ordered,
    regional_owner,
)

__all__ = [
    "Known",
    "Loaded",
    "Manifest",
    "ManifestError",
    "check",
    "files",
    "items_owner",
    "load",
    "ordered",
    "regional_owner",
]
