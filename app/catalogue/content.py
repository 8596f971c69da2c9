"""What an item version holds, its rules (promised ≤ legal …) and the field-by-field diff.

The content is one JSON document per version, validated here whichever way it arrives:
the supervisor's editor, the .xlsx import or the seed manifests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

POWER_TYPES = {
    "行政许可": _l("Administrative licensing"),
    "行政确认": _l("Administrative confirmation"),
    "行政给付": _l("Administrative benefit"),
    "行政裁决": _l("Administrative ruling"),
    "行政奖励": _l("Administrative award"),
    "行政征收": _l("Administrative levy"),
    "行政备案": _l("Administrative filing"),
    "其他行政权力": _l("Other administrative power"),
    "公共服务": _l("Public service"),
}
KINDS = {
    "immediate": _l("Immediate (即办件)"),
    "promised": _l("Promised (承诺件)"),
    "joint": _l("Joint (联办件)"),
    "escalated": _l("Escalated (上报件)"),
}
CHANNELS = {
    "window": _l("At the window"),
    "online": _l("Online"),
    "regiment": _l("At the regiment"),
}
FORMS = {
    "original": _l("Original"),
    "copy": _l("Copy"),
    "original_and_copy": _l("Original and copy"),
    "electronic": _l("Electronic"),
}
REQUIREMENTS = {"required": _l("Required"), "conditional": _l("Conditional")}
MAX_HALVES = 2 * 365


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Material(Strict):
    name: str = Field(min_length=1, max_length=120)
    form: Literal["original", "copy", "original_and_copy", "electronic"] = "original"
    copies: int = Field(default=1, ge=0, le=50)
    requirement: Literal["required", "conditional"] = "required"
    condition: str = Field(default="", max_length=300)
    note: str = Field(default="", max_length=300)
    sample_file_id: int | None = None

    @model_validator(mode="after")
    def _condition(self) -> Material:
        if self.requirement == "conditional" and not self.condition:
            raise ValueError("a conditional material needs its condition")
        return self


class Step(Strict):
    name: str = Field(min_length=1, max_length=40)
    actor: str = Field(min_length=1, max_length=60)
    halves: int = Field(default=0, ge=0, le=MAX_HALVES)


class ItemContent(Strict):
    name: str = Field(min_length=2, max_length=120)
    local_code: str = Field(default="", max_length=40)  # 实施编码
    department: str = Field(min_length=1, max_length=32)  # department code
    power_type: str
    kind: Literal["immediate", "promised", "joint", "escalated"]
    joint_departments: list[str] = []
    legal_halves: int = Field(ge=0, le=MAX_HALVES)
    promised_halves: int = Field(ge=0, le=MAX_HALVES)
    conditions: str = Field(default="", max_length=4000)
    materials: list[Material] = []
    fees: str = Field(default="不收费", max_length=300)
    fee_basis: str = Field(default="", max_length=1000)
    legal_basis: str = Field(default="", max_length=4000)
    implementing_body: str = Field(default="", max_length=120)
    result_document: str = Field(default="", max_length=200)
    supervising_phone: str = Field(default="", max_length=40)
    channels: list[Literal["window", "online", "regiment"]] = Field(
        default=["window"], min_length=1
    )
    steps: list[Step] = []

    @model_validator(mode="after")
    def _rules(self) -> ItemContent:
        if self.power_type not in POWER_TYPES:
            raise ValueError("unknown type of power")
        if self.promised_halves > self.legal_halves:
            raise ValueError("the promised limit may not exceed the legal limit")
        if self.kind == "joint" and not self.joint_departments:
            raise ValueError("a joint item names the departments that must sign")
        if self.kind != "joint" and self.joint_departments:
            raise ValueError("only a joint item has signing departments")
        if self.kind == "immediate" and self.promised_halves != 0:
            raise ValueError("an immediate item is concluded on the spot (promised limit 0)")
        return self


class ContentError(Exception):
    """Invalid content: ``problems`` maps a field (dotted path) to a readable reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


_RULE_MESSAGES = {
    "the promised limit may not exceed the legal limit": (
        "promised_halves",
        _l("The promised limit may not exceed the legal limit."),
    ),
    "a joint item names the departments that must sign": (
        "joint_departments",
        _l("A joint item names the departments that must sign."),
    ),
    "only a joint item has signing departments": (
        "joint_departments",
        _l("Only a joint item has signing departments."),
    ),
    "an immediate item is concluded on the spot (promised limit 0)": (
        "promised_halves",
        _l("An immediate item is concluded on the spot: its promised limit is 0."),
    ),
    "unknown type of power": ("power_type", _l("Choose a type of power.")),
    "a conditional material needs its condition": (
        "materials",
        _l("A conditional material needs its condition."),
    ),
}


def validate(data: dict[str, Any]) -> ItemContent:
    """Validate item content; raises ContentError with translated messages per field."""
    try:
        return ItemContent.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for err in exc.errors():
            message = str(err.get("msg", "")).removeprefix("Value error, ")
            if message in _RULE_MESSAGES:
                field, text = _RULE_MESSAGES[message]
                problems.setdefault(field, str(text))
                continue
            loc = ".".join(str(p) for p in err["loc"]) or "content"
            problems.setdefault(loc, _("Invalid value: %(reason)s", reason=message))
        raise ContentError(problems) from None


def halves_text(halves: int | None) -> str:
    """3 个工作日 / 2.5 个工作日 / 即办 (half-day steps)."""
    if halves is None:
        return "—"
    if halves == 0:
        return _("On the spot")
    days = Decimal(halves) / 2
    shown = f"{days:.1f}".rstrip("0").rstrip(".")
    return _("%(days)s working days", days=shown)


LABELS: dict[str, Any] = {
    "name": _l("Item name"),
    "local_code": _l("Local implementation code"),
    "department": _l("Department"),
    "power_type": _l("Type of power"),
    "kind": _l("Item kind"),
    "joint_departments": _l("Departments that sign"),
    "legal_halves": _l("Legal time limit"),
    "promised_halves": _l("Promised time limit"),
    "conditions": _l("Conditions"),
    "materials": _l("Materials"),
    "fees": _l("Fees"),
    "fee_basis": _l("Fee basis"),
    "legal_basis": _l("Legal basis"),
    "implementing_body": _l("Implementing body"),
    "result_document": _l("Result document"),
    "supervising_phone": _l("Supervising phone"),
    "channels": _l("Channels"),
    "steps": _l("Process steps"),
}


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field changes between two contents: [{field, label, old, new}] in LABELS order.

    Materials are compared as a whole list; a change shows both lists.
    """
    before = old or {}
    out = []
    for field, label in LABELS.items():
        a, b = before.get(field), new.get(field)
        if a != b:
            out.append({"field": field, "label": label, "old": a, "new": b})
    return out
