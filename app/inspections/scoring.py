"""The arithmetic of an inspection: parsing an entered score, the totals per section and
for the whole checklist, what is still missing before submission.

Scores are :class:`~decimal.Decimal` throughout (never floats): an entered score is a
number from 0 to the item's maximum with at most one decimal place; an unanswered item
counts 0.  The percentage is the score over the maximum, two decimals, rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.inspections.definition import Definition, ItemDef, score_text
from app.web.i18n import gettext as _

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
NOTE_MAX = 1000


class ScoreError(ValueError):
    """An entered score that cannot be stored; the message is for the item's field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_score(text: Any, maximum: Decimal) -> Decimal | None:
    """The entered score (None when left empty); ``ScoreError`` when it is not a number from
    0 to ``maximum`` with at most one decimal place.  A comma is taken as the decimal point."""
    raw = str(text if text is not None else "").strip().replace("，", ",").replace(",", ".")
    if raw == "":
        return None
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise ScoreError(_("Enter a number, e.g. 8 or 8.5.")) from None
    if not value.is_finite():
        raise ScoreError(_("Enter a number, e.g. 8 or 8.5."))
    if value < ZERO or value > maximum:
        raise ScoreError(_("The score is from 0 to %(max)s.", max=score_text(maximum)))
    if value == maximum:
        return maximum
    if value != value.quantize(Decimal("0.1")):
        raise ScoreError(_("At most one decimal place."))
    return value.quantize(Decimal("0.1")) if value != value.to_integral() else value.quantize(1)


def answer_score(answers: dict[str, Any], key: str) -> Decimal | None:
    """The stored score of an item (None when unanswered)."""
    entry = answers.get(key)
    if not isinstance(entry, dict):
        return None
    text = str(entry.get("score", "") or "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def percent(score: Decimal, maximum: Decimal) -> Decimal:
    if maximum <= ZERO:
        return ZERO
    return (score * HUNDRED / maximum).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class SectionTotal:
    index: int
    key: str
    title: str
    score: Decimal
    max_score: Decimal
    answered: int
    count: int
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Totals:
    score: Decimal
    max_score: Decimal
    percent: Decimal
    sections: list[SectionTotal]
    unanswered: list[ItemDef]

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    @property
    def count(self) -> int:
        return sum(s.count for s in self.sections)


def totals(defn: Definition, answers: dict[str, Any]) -> Totals:
    """Score, maximum and percentage, per section and in all (unanswered items count 0)."""
    sections: list[SectionTotal] = []
    unanswered: list[ItemDef] = []
    for index, section in enumerate(defn.sections):
        total = SectionTotal(index, section.key, section.title, ZERO, ZERO, 0, len(section.items))
        for item in section.items:
            score = answer_score(answers, item.key)
            entry = answers.get(item.key) if isinstance(answers.get(item.key), dict) else {}
            total.max_score += item.max_score
            if score is None:
                unanswered.append(item)
            else:
                total.score += score
                total.answered += 1
            total.items.append(
                {"item": item, "score": score, "note": str((entry or {}).get("note", ""))}
            )
        sections.append(total)
    score = sum((s.score for s in sections), ZERO)
    maximum = sum((s.max_score for s in sections), ZERO)
    return Totals(score, maximum, percent(score, maximum), sections, unanswered)


def missing_photos(defn: Definition, photo_keys: set[str]) -> list[ItemDef]:
    """Items that require a photo and have none."""
    return [i for i in defn.items() if i.photo_required and i.key not in photo_keys]


def quick_scores(maximum: Decimal) -> list[str]:
    """The quick-entry buttons of an item: 0, half (one decimal, rounded down), the maximum."""
    half = (maximum / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return list(dict.fromkeys(score_text(v) for v in (ZERO, half, maximum)))


def item_keys(defn: Definition) -> set[str]:
    return {i.key for i in defn.items()}
