"""The assessment scheme (绩效考核实施细则): named components, each a formula in the rule
evaluator (app.rules) and a weight in points.

A component's ``expression`` gives a score in per cent (0–100; e.g. ``on_time_rate``, or
``max(0, 100 - discipline_notes * 20)`` for a deduction); its points are
``clamp(value, 0, 100) ÷ 100 × weight``, rounded half up to 2 places.  ``applies`` says
whose score it counts in: ``window`` (each window of a centre), ``centre`` (each centre) or
``both``; the variables it may read are those of that level (both: of each).

Missing inputs: a component whose formula reads a variable without a value (no concluded
case, no rating, no inspection yet, no submitted report, no log) shows "—" and is
**excluded and the rest renormalised**: total = Σ points of the evaluated components ×
(Σ all weights ÷ Σ evaluated weights), rounded to 2 places.  When nothing can be
evaluated the total is "—".  A window's contribution to its department's score (the
article: window work counts 3 points) is ``total ÷ 100 × 3``, rounded to 2 places.

Versions: every save appends a version valid from the month it was saved in; a month is
scored with the latest version whose ``from_month`` is not after it (the first version for
earlier months).  Scores are computed on demand, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.rules import RuleError, RuleEvaluationError, compile_rule
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
DEPARTMENT_POINTS = Decimal(3)
APPLIES = ("window", "centre", "both")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_COMPONENTS = 20

# Variables per level, with their meaning (shown on the rules page).
COMMON = {
    "on_time_rate": _l("On-time conclusion rate (按时办结率), per cent"),
    "good_rate": _l("Good-rating rate (好评率), per cent"),
    "unrated_rate": _l("Unrated rate (未评率), per cent"),
    "platform_usage": _l("Platform usage: cases on the platform ÷ all cases handled, per cent"),
    "attendance_rate": _l("Attendance: present or on business trip ÷ person-days logged, per cent"),
    "late": _l("Person-days late"),
    "absent": _l("Person-days absent"),
    "discipline_notes": _l("Discipline notes recorded in the work logs"),
    "log_rate": _l("Work logs written ÷ working days, per cent"),
}
CENTRE_ONLY = {
    "inspection_percent": _l("Latest inspection score (检查得分率), per cent"),
    "report_on_time": _l("Monthly report submitted on time: 1 yes, 0 no"),
}
WINDOW_VARIABLES = frozenset(COMMON)
CENTRE_VARIABLES = frozenset(COMMON) | frozenset(CENTRE_ONLY)
APPLIES_LABELS = {
    "window": _l("Windows only"),
    "centre": _l("Centres only"),
    "both": _l("Windows and centres"),
}


def allowed(applies: str) -> frozenset[str]:
    if applies == "window":
        return WINDOW_VARIABLES
    if applies == "centre":
        return CENTRE_VARIABLES
    return WINDOW_VARIABLES & CENTRE_VARIABLES


RECOMMENDED: list[dict[str, str]] = [
    {"key": "on_time", "label": "按时办结率", "applies": "both",
     "expression": "on_time_rate", "weight": "30"},
    {"key": "satisfaction", "label": "好评率", "applies": "both",
     "expression": "good_rate", "weight": "25"},
    {"key": "platform_usage", "label": "平台使用率", "applies": "both",
     "expression": "platform_usage", "weight": "20"},
    {"key": "attendance", "label": "考勤", "applies": "window",
     "expression": "attendance_rate", "weight": "15"},
    {"key": "discipline", "label": "工作纪律（每条记录扣20%）", "applies": "window",
     "expression": "max(0, 100 - discipline_notes * 20)", "weight": "10"},
    {"key": "inspection", "label": "检查得分率", "applies": "centre",
     "expression": "inspection_percent", "weight": "15"},
    {"key": "report_timeliness", "label": "月报按时报送", "applies": "centre",
     "expression": "report_on_time * 100", "weight": "10"},
]  # fmt: skip


class SchemeError(ValueError):
    """What is wrong with the submitted components: (row index or None, field) → message."""

    def __init__(self, problems: dict[tuple[int | None, str], str]) -> None:
        super().__init__("invalid scheme")
        self.problems = problems


def validate(rows: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Check submitted component rows (blank rows are skipped); the clean components or
    SchemeError with a message per row and field."""
    problems: dict[tuple[int | None, str], str] = {}
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        key = (row.get("key") or "").strip()
        label = (row.get("label") or "").strip()
        expression = (row.get("expression") or "").strip()
        weight_text = (row.get("weight") or "").strip()
        applies = (row.get("applies") or "").strip()
        if not (key or label or expression or weight_text):
            continue
        if not KEY.match(key):
            problems[(i, "key")] = _(
                "Use lower-case letters, digits and _ (starting with a letter), up to 32."
            )
        elif key in seen:
            problems[(i, "key")] = _("This key is used twice.")
        seen.add(key)
        if not label or len(label) > 60:
            problems[(i, "label")] = _("Give the component a name of up to 60 characters.")
        if applies not in APPLIES:
            problems[(i, "applies")] = _("Choose whose score this component counts in.")
        try:
            weight = Decimal(weight_text)
            if not weight.is_finite() or weight <= 0 or weight > 100:
                raise ValueError
            if weight != weight.quantize(CENT):
                raise ValueError
        except (ArithmeticError, ValueError):
            problems[(i, "weight")] = _("The weight is a number of points above 0, up to 100.")
        if applies in APPLIES:
            try:
                compile_rule(expression, allowed(applies))
            except RuleError as exc:
                problems[(i, "expression")] = _(
                    "Character %(position)s: %(reason)s", position=exc.position, reason=exc.reason
                )
        out.append(
            {"key": key, "label": label, "applies": applies, "expression": expression,
             "weight": weight_text}
        )  # fmt: skip
    if not out and not problems:
        problems[(None, "components")] = _("Add at least one component.")
    if len(out) > MAX_COMPONENTS:
        problems[(None, "components")] = _("At most %(n)s components.", n=MAX_COMPONENTS)
    if problems:
        raise SchemeError(problems)
    return out


def version_for(versions: list[dict[str, Any]], month: int) -> dict[str, Any] | None:
    """The version scoring ``month``: the latest from on or before it, else the first."""
    if not versions:
        return None
    fitting = [v for v in versions if int(v["from_month"]) <= month]
    return fitting[-1] if fitting else versions[0]


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    expression: str
    weight: Decimal
    value: Decimal | None  # the formula's per-cent value (None: an input is missing)
    points: Decimal | None
    missing: tuple[str, ...]  # the variables without a value
    error: str = ""


@dataclass(frozen=True)
class Score:
    parts: tuple[Part, ...]
    total: Decimal | None
    max_points: Decimal
    counted_weight: Decimal
    variables: Mapping[str, Decimal | None]

    @property
    def contribution(self) -> Decimal | None:
        """The department-score contribution: total ÷ 100 × 3."""
        if self.total is None:
            return None
        return (self.total / HUNDRED * DEPARTMENT_POINTS).quantize(CENT, ROUND_HALF_UP)

    @property
    def renormalised(self) -> bool:
        return self.total is not None and self.counted_weight != self.max_points


def components_for(version: Mapping[str, Any], level: str) -> list[dict[str, str]]:
    return [c for c in version.get("components", []) if c["applies"] in (level, "both")]


def score(components: list[dict[str, str]], level: str, values: Mapping[str, Any]) -> Score:
    """Score one window or centre with ``components`` (those applying to ``level``)."""
    names = allowed(level)
    parts: list[Part] = []
    for c in components:
        weight = Decimal(c["weight"])
        rule = compile_rule(c["expression"], names)
        missing = tuple(sorted(n for n in rule.fields if values.get(n) is None))
        if missing:
            parts.append(Part(c["key"], c["label"], c["expression"], weight, None, None, missing))
            continue
        try:
            result = rule.evaluate(values)
        except RuleEvaluationError as exc:
            parts.append(
                Part(c["key"], c["label"], c["expression"], weight, None, None, (), exc.reason)
            )
            continue
        value = Decimal(int(result)) if isinstance(result, bool) else result
        clamped = min(max(value, Decimal(0)), HUNDRED)
        points = (clamped / HUNDRED * weight).quantize(CENT, ROUND_HALF_UP)
        parts.append(
            Part(c["key"], c["label"], c["expression"], weight,
                 value.quantize(CENT, ROUND_HALF_UP), points, ())
        )  # fmt: skip
    max_points = sum((p.weight for p in parts), Decimal(0))
    counted = sum((p.weight for p in parts if p.points is not None), Decimal(0))
    total: Decimal | None = None
    if counted:
        earned = sum((p.points for p in parts if p.points is not None), Decimal(0))
        total = (earned * max_points / counted).quantize(CENT, ROUND_HALF_UP)
    return Score(tuple(parts), total, max_points, counted, dict(values))
