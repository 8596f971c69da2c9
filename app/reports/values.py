"""Reading what a centre typed into a report and checking it against the form.

``parse`` turns the text of one field into its stored text (normalised) or a message;
``check`` runs every field and rule over a whole set of values and says what stops a
submission (missing or invalid fields, failed blocking rules, warnings without a comment,
corrected sources without a note) and what is only shown (rules that cannot be checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.reports.definition import Definition, FieldDef
from app.rules import RuleEvaluationError
from app.web.i18n import gettext as _

MAX_TEXT = 2000
MAX_NUMBER = Decimal("99999999999999")  # what the roll-up's numeric(18, 4) keeps
YES, NO = "yes", "no"


def parse(f: FieldDef, raw: Any) -> tuple[str, str | None]:
    """(stored text, problem) for one field; empty text means not filled."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return "", None
    if f.type == "text":
        if len(text) > MAX_TEXT:
            return text, _("At most %(n)s characters", n=MAX_TEXT)
        return text, None
    if f.type == "choice":
        return (text, None) if text in f.choices else (text, _("Choose one of the options"))
    if f.type == "yesno":
        return (text, None) if text in (YES, NO) else (text, _("Choose yes or no"))
    cleaned = text.replace(",", "").replace("，", "").replace("％", "").replace("%", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return text, _("Enter a number")
    if not number.is_finite():
        return text, _("Enter a number")
    if number < 0:
        return text, _("Cannot be negative")
    if number > MAX_NUMBER:
        return text, _("This number is too large")
    if f.type == "integer":
        if number != number.to_integral_value():
            return text, _("Enter a whole number")
        return str(int(number)), None
    if f.type == "percent":
        if number > 100:
            return text, _("A percentage is between 0 and 100")
        return _plain(number, 1), None
    return _plain(number, 2), None


def _plain(number: Decimal, places: int) -> str:
    """At most ``places`` decimals (half up), without trailing zeros or exponent."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def number(f: FieldDef, stored: str) -> Decimal | None:
    """The value a rule or the roll-up sees: numbers as Decimal, yes/no as 1/0."""
    if not stored:
        return None
    if f.type == "yesno":
        return Decimal(1) if stored == YES else Decimal(0)
    if f.type in ("integer", "decimal", "percent"):
        try:
            return Decimal(stored)
        except InvalidOperation:
            return None
    return None


def numbers(definition: Definition, values: Mapping[str, str]) -> dict[str, Decimal | None]:
    return {f.key: number(f, values.get(f.key, "")) for f in definition.fields() if f.numeric}


@dataclass
class RuleResult:
    key: str
    level: str  # block | warn
    message: str
    expr: str
    ok: bool | None  # None: cannot be checked with these values
    reason: str = ""  # why it cannot be checked
    comment: str = ""


@dataclass
class Check:
    values: dict[str, str]  # normalised
    field_errors: dict[str, str] = field(default_factory=dict)
    rules: list[RuleResult] = field(default_factory=list)

    @property
    def blocking(self) -> list[RuleResult]:
        return [r for r in self.rules if r.level == "block" and r.ok is False]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.rules if r.level == "warn" and r.ok is False]

    @property
    def unchecked(self) -> list[RuleResult]:
        return [r for r in self.rules if r.ok is None]

    @property
    def can_submit(self) -> bool:
        return not self.field_errors and not self.blocking and all(r.comment for r in self.warnings)


def check(
    definition: Definition,
    raw: Mapping[str, Any],
    *,
    previous: Mapping[str, str] | None,
    sources: Mapping[str, Any] | None = None,
    corrections: Mapping[str, str] | None = None,
    comments: Mapping[str, str] | None = None,
    for_submit: bool = False,
) -> Check:
    """Normalise ``raw`` and check it.  ``for_submit`` adds the required-field checks and
    the notes a corrected pre-filled number needs; drafts only get format problems."""
    sources = sources or {}
    corrections = corrections or {}
    comments = comments or {}
    out = Check(values={})
    for f in definition.fields():
        stored, problem = parse(f, raw.get(f.key))
        out.values[f.key] = stored
        if problem:
            out.field_errors[f.key] = problem
        elif for_submit and f.required and not stored:
            out.field_errors[f.key] = _("Please fill this in")
        elif for_submit and f.source and stored and f.key in sources:
            source = sources[f.key].get("value") if isinstance(sources[f.key], dict) else None
            if source is not None and Decimal(str(source)) != Decimal(stored):
                if not (corrections.get(f.key) or "").strip():
                    out.field_errors[f.key] = _(
                        "This differs from the case records (%(value)s): say why in the note",
                        value=source,
                    )
    current = numbers(definition, out.values)
    before = numbers(definition, previous) if previous is not None else None
    for rule_def, rule in definition.compiled_rules():
        result = RuleResult(
            rule_def.key,
            rule_def.level,
            rule_def.message,
            rule_def.expr,
            None,
            comment=(comments.get(rule_def.key) or "").strip(),
        )
        try:
            result.ok = bool(rule.evaluate(current, before))
        except RuleEvaluationError as exc:
            result.reason = exc.reason
        out.rules.append(result)
    return out
