"""What a checklist version holds — sections of scored items with guidance, a maximum score
and whether a photo is required — validated here whichever way it arrives (the division's
editor or the seed manifest).

    {"sections": [{"key": "hardware", "title": "硬件设施", "items": [
        {"key": "h1", "text": "…", "guidance": "…", "max_score": "10", "photo_required": true}
    ]}]}

Keys are unique across the whole checklist (an inspection's answers, photos and findings
name an item by its key).  Maximum scores are decimals, stored as normalised strings
("10", "2.5") so that an unchanged definition compares equal and makes no new version.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from app.web.i18n import gettext as _

KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_SECTIONS = 20
MAX_ITEMS = 60  # per section
HUNDRED = Decimal(100)


def check_key(value: Any) -> str:
    value = str(value or "").strip()
    if not KEY.match(value):
        raise ValueError(
            _("Key: lower-case letters, digits and _ (starting with a letter, at most 32)")
        )
    return value


def _text(value: Any, limit: int, *, required: bool, what: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError(_("%(what)s must be text", what=what))
    value = value.strip()
    if required and not value:
        raise ValueError(_("%(what)s cannot be empty", what=what))
    if len(value) > limit:
        raise ValueError(_("%(what)s: at most %(n)s characters", what=what, n=limit))
    return value


def parse_score(value: Any) -> Decimal:
    """A maximum score: a decimal number above 0, at most 100, two decimals at most."""
    if isinstance(value, bool):
        raise ValueError(_("Maximum score: enter a number such as 10 or 2.5"))
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("Maximum score: enter a number such as 10 or 2.5")) from None
    if not number.is_finite():
        raise ValueError(_("Maximum score: enter a number such as 10 or 2.5"))
    if number <= 0 or number > HUNDRED:
        raise ValueError(_("Maximum score: more than 0 and at most 100"))
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(_("Maximum score: at most two decimal places"))
    return number


def score_text(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros (10, 2.5)."""
    text = format(value.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemDef(Strict):
    key: str
    text: str
    guidance: str = ""
    max_score: Decimal
    photo_required: bool = False

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> str:
        return check_key(value)

    @field_validator("text", mode="before")
    @classmethod
    def _item_text(cls, value: Any) -> str:
        return _text(value, 300, required=True, what=_("Checklist item text"))

    @field_validator("guidance", mode="before")
    @classmethod
    def _guidance(cls, value: Any) -> str:
        return _text(value, 1000, required=False, what=_("Scoring guidance"))

    @field_validator("max_score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Decimal:
        return parse_score(value)

    @field_validator("photo_required", mode="before")
    @classmethod
    def _photo(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("y", "yes", "true", "on", "1", 1):
            return True
        if value in ("", "n", "no", "false", "off", "0", 0, None):
            return False
        raise ValueError(_("Photo required: yes or no"))

    @field_serializer("max_score")
    def _dump_score(self, value: Decimal) -> str:
        return score_text(value)


class SectionDef(Strict):
    key: str
    title: str
    items: list[ItemDef]

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> str:
        return check_key(value)

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> str:
        return _text(value, 120, required=True, what=_("Section title"))

    @field_validator("items", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError(_("A section needs at least one checklist item"))
        if len(value) > MAX_ITEMS:
            raise ValueError(_("A section may have at most %(n)s checklist items", n=MAX_ITEMS))
        return value


class Definition(Strict):
    sections: list[SectionDef]

    @field_validator("sections", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError(_("A checklist needs at least one section"))
        if len(value) > MAX_SECTIONS:
            raise ValueError(_("A checklist may have at most %(n)s sections", n=MAX_SECTIONS))
        return value

    @model_validator(mode="after")
    def _unique(self) -> Definition:
        seen: set[str] = set()
        for section in self.sections:
            if section.key in seen:
                raise ValueError(_("The key %(key)s is used twice", key=section.key))
            seen.add(section.key)
        for item in self.items():
            if item.key in seen:
                raise ValueError(_("The key %(key)s is used twice", key=item.key))
            seen.add(item.key)
        return self

    def items(self) -> list[ItemDef]:
        return [i for s in self.sections for i in s.items]

    def item(self, key: str) -> ItemDef | None:
        return next((i for i in self.items() if i.key == key), None)


class DefinitionError(ValueError):
    """The definition cannot be saved: one message per problem, with where it is."""

    def __init__(self, problems: list[str], locations: list[tuple[Any, ...]] | None = None):
        super().__init__("; ".join(problems))
        self.problems = problems
        self.locations = locations or []


# Pydantic's own (English) messages for structural errors, replaced by ours.
def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing":
        return _("This value is missing")
    if kind == "extra_forbidden":
        return _("Unknown entry (not part of a checklist)")
    if kind in ("list_type", "model_type", "dict_type", "model_attributes_type"):
        return _("Wrong structure: expected sections with checklist items")
    if kind in ("bool_type", "bool_parsing"):
        return _("Photo required: yes or no")
    return _("Invalid value")


# Fields whose messages name them already ("Maximum score: …").
_NAMED = frozenset({"key", "title", "text", "guidance", "max_score", "photo_required"})


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A readable location: 'section 2 (daily), checklist item 3 (d3)'."""
    parts: list[str] = []
    node: Any = data
    i = 0
    while i < len(loc):
        name = loc[i]
        if name in ("sections", "items") and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            try:
                node = node[name][index]
                key = node.get("key", "") if isinstance(node, dict) else ""
            except (KeyError, IndexError, TypeError):
                node, key = None, ""
            label = _("section") if name == "sections" else _("checklist item")
            parts.append(f"{label} {int(index) + 1}" + (f" ({key})" if key else ""))
            i += 2
            continue
        if name not in ("sections", "items") and name not in _NAMED:
            parts.append(str(name))
        i += 1
    return ", ".join(parts)


def validate(data: Any) -> Definition:
    """A checked definition, or DefinitionError listing every problem."""
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        problems, locations = [], []
        for error in exc.errors():
            loc = tuple(error.get("loc", ()))
            where = _where(loc, data)
            message = _message(error)
            problems.append(f"{where}: {message}" if where else message)
            locations.append(loc)
        raise DefinitionError(problems, locations) from None


def dump(defn: Definition) -> dict[str, Any]:
    """The JSON document stored in a version."""
    return defn.model_dump(mode="json")


def load(stored: Any) -> Definition:
    """A stored (already validated) definition; JSON text or a dict."""
    if isinstance(stored, str):
        stored = json.loads(stored)
    return Definition.model_validate(stored)


def max_score(defn: Definition | dict[str, Any]) -> Decimal:
    """The sum of the items' maximum scores."""
    if not isinstance(defn, Definition):
        defn = load(defn)
    return sum((i.max_score for i in defn.items()), Decimal(0))
