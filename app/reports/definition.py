"""What a report form version holds — sections, fields, rules, who files it, due and lock
days — validated here whichever way it arrives (the division's editor or the seed manifest).

A field's ``source`` names a figure of the centre's own case records for the month (see
:data:`SOURCES`, all from :mod:`app.metrics`); the form pre-fills it and shows where the
number came from.  Rules are expressions of :mod:`app.rules` over the numeric fields (yes/no
counts as 1/0): ``block`` rules must hold to submit, ``warn`` rules need a comment.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.metrics import COUNTS
from app.rules import Rule, RuleError, compile_rule
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELD_TYPES = {
    "integer": _l("Whole number"),
    "decimal": _l("Decimal number"),
    "percent": _l("Percentage"),
    "text": _l("Text"),
    "choice": _l("Choice"),
    "yesno": _l("Yes / no"),
}
NUMERIC = frozenset({"integer", "decimal", "percent", "yesno"})
FILER_KINDS = {
    "division": _l("Division hall"),
    "regiment": _l("Regiment centres"),
    "community": _l("Community centres"),
}
LEVELS = {"block": _l("Blocking"), "warn": _l("Warning")}
ROLLUPS = {"sum": _l("Sum"), "mean": _l("Average"), "none": _l("Not totalled")}

# The figures a field can be pre-filled from (app.metrics), with the labels shown next to it.
SOURCES: dict[str, Any] = {
    "registered": _l("Cases registered"),
    "carried_over": _l("Cases carried over from last month"),
    "immediate": _l("Immediate cases (即办件)"),
    "promised": _l("Promised cases (承诺件)"),
    "joint": _l("Joint cases (联办件)"),
    "escalated": _l("Escalated cases (上报件)"),
    "urgent": _l("Urgent cases (急办件)"),
    "supplemented": _l("Cases given a one-time notice (补办件)"),
    "accepted": _l("Cases accepted"),
    "notices": _l("One-time notices issued"),
    "refused": _l("Cases not accepted"),
    "returned": _l("Cases returned (退回件)"),
    "concluded": _l("Cases concluded"),
    "on_time": _l("Concluded on time"),
    "late": _l("Concluded late (overdue)"),
    "unrated": _l("Concluded and not rated"),
    "rated": _l("Ratings given"),
    "level_5": _l("Rated very satisfied"),
    "level_4": _l("Rated satisfied"),
    "level_3": _l("Rated basically satisfied"),
    "level_2": _l("Rated dissatisfied"),
    "level_1": _l("Rated very dissatisfied"),
    "good": _l("Good ratings (好评)"),
    "on_time_rate": _l("On-time rate (按时办结率)"),
    "good_rate": _l("Good-rating rate (好评率)"),
    "unrated_rate": _l("Unrated rate (未评率)"),
}
RATE_SOURCES = frozenset({"on_time_rate", "good_rate", "unrated_rate"})
assert set(SOURCES) - {"carried_over", "good", *RATE_SOURCES} <= set(COUNTS)

MAX_FIELDS = 120
MAX_RULES = 40


def check_key(value: str) -> str:
    if not KEY.match(value):
        raise ValueError(
            _("Use lower-case letters, digits and _ (starting with a letter, at most 40)")
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldDef(Strict):
    key: str
    label: str = Field(min_length=1, max_length=120)
    type: Literal["integer", "decimal", "percent", "text", "choice", "yesno"] = "integer"
    help: str = Field(default="", max_length=500)
    required: bool = True
    unit: str = Field(default="", max_length=16)
    choices: list[str] = Field(default_factory=list, max_length=30)
    source: str = ""
    rollup: Literal["sum", "mean", "none"] | None = None  # None: by type (sum; mean for %)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_key(value)

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: list[str]) -> list[str]:
        cleaned = [c.strip() for c in value if c.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError(_("Each choice may appear only once"))
        if any(len(c) > 60 for c in cleaned):
            raise ValueError(_("A choice may be at most 60 characters"))
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError(_("A choice field needs at least two choices"))
        if self.type != "choice" and self.choices:
            raise ValueError(_("Only a choice field has choices"))
        if self.source:
            if self.source not in SOURCES:
                raise ValueError(_("Unknown source %(name)s", name=self.source))
            wanted = "percent" if self.source in RATE_SOURCES else "integer"
            if self.type != wanted:
                raise ValueError(_("A field filled from case records must be a number of its kind"))
        if self.rollup is None:
            defaults: dict[str, Literal["sum", "mean", "none"]] = {
                "integer": "sum",
                "decimal": "sum",
                "percent": "mean",
            }
            self.rollup = defaults.get(self.type, "none")
        elif self.rollup != "none" and self.type not in ("integer", "decimal", "percent"):
            raise ValueError(_("Only number fields can be totalled"))
        return self

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC


class SectionDef(Strict):
    key: str
    title: str = Field(min_length=1, max_length=120)
    help: str = Field(default="", max_length=500)
    fields: list[FieldDef] = Field(min_length=1, max_length=MAX_FIELDS)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_key(value)


class RuleDef(Strict):
    key: str
    expr: str = Field(min_length=1, max_length=500)
    level: Literal["block", "warn"] = "block"
    message: str = Field(min_length=1, max_length=200)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_key(value)


class Definition(Strict):
    filers: list[Literal["division", "regiment", "community"]] = Field(min_length=1)
    due_day: int = Field(default=5, ge=1, le=28)
    lock_day: int = Field(default=10, ge=1, le=28)
    intro: str = Field(default="", max_length=1000)
    sections: list[SectionDef] = Field(min_length=1, max_length=20)
    rules: list[RuleDef] = Field(default_factory=list, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _check(self) -> Definition:
        if self.lock_day < self.due_day:
            raise ValueError(_("The lock day cannot be before the due day"))
        keys = [f.key for s in self.sections for f in s.fields]
        if len(keys) > MAX_FIELDS:
            raise ValueError(_("A form may have at most %(n)s fields", n=MAX_FIELDS))
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise ValueError(_("The field key %(key)s is used twice", key=key))
            seen.add(key)
        if len({s.key for s in self.sections}) != len(self.sections):
            raise ValueError(_("Each section needs its own key"))
        if len({r.key for r in self.rules}) != len(self.rules):
            raise ValueError(_("Each rule needs its own key"))
        numeric = self.numeric_keys()
        for rule in self.rules:
            try:
                compile_rule(rule.expr, numeric)
            except RuleError as exc:
                raise ValueError(
                    _(
                        "Rule %(key)s, character %(pos)s: %(reason)s",
                        key=rule.key,
                        pos=exc.position,
                        reason=exc.reason,
                    )
                ) from None
        return self

    def fields(self) -> list[FieldDef]:
        return [f for s in self.sections for f in s.fields]

    def field(self, key: str) -> FieldDef | None:
        return next((f for f in self.fields() if f.key == key), None)

    def numeric_keys(self) -> list[str]:
        return [f.key for f in self.fields() if f.numeric]

    def compiled_rules(self) -> list[tuple[RuleDef, Rule]]:
        numeric = self.numeric_keys()
        return [(r, compile_rule(r.expr, numeric)) for r in self.rules]


class DefinitionError(ValueError):
    """The definition cannot be saved: one message per problem, with where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _where(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """A readable location: 'section 2 (business), field 3 (registered)'."""
    parts: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        name = loc[i]
        if name in ("sections", "fields", "rules") and i + 1 < len(loc):
            index = loc[i + 1]
            try:
                node = node[name][index]
                key = node.get("key", "") if isinstance(node, dict) else ""
            except (KeyError, IndexError, TypeError):
                key = ""
            label = {"sections": _("section"), "fields": _("field"), "rules": _("rule")}[name]
            parts.append(f"{label} {int(index) + 1}" + (f" ({key})" if key else ""))
            i += 2
            continue
        parts.append(str(name))
        i += 1
    return ", ".join(parts)


def validate(data: Any) -> Definition:
    """A checked definition, or DefinitionError listing every problem."""
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            where = _where(tuple(error.get("loc", ())), data if isinstance(data, dict) else {})
            problems.append(f"{where}: {message}" if where else message)
        raise DefinitionError(problems) from None


def load(stored: Any) -> Definition:
    """A stored (already validated) definition; JSON text or a dict."""
    if isinstance(stored, str):
        import json

        stored = json.loads(stored)
    return Definition.model_validate(stored)
