"""The field-by-field changes between two versions, as readable lines for the page."""

from __future__ import annotations

from typing import Any

from app.catalogue import content
from app.catalogue.content import CHANNELS, FORMS, KINDS, POWER_TYPES, REQUIREMENTS, halves_text
from app.web.i18n import ngettext


def _material(m: dict[str, Any]) -> str:
    parts = [
        m.get("name", ""),
        str(FORMS.get(m.get("form", ""), m.get("form", ""))),
        ngettext("%(num)d copy", "%(num)d copies", int(m.get("copies", 1))),
        str(REQUIREMENTS.get(m.get("requirement", ""), m.get("requirement", ""))),
    ]
    if m.get("condition"):
        parts.append(m["condition"])
    if m.get("note"):
        parts.append(m["note"])
    return " · ".join(p for p in parts if p)


def _step(s: dict[str, Any]) -> str:
    return f"{s.get('name', '')} — {s.get('actor', '')} · {halves_text(s.get('halves', 0))}"


def describe(field: str, value: Any, departments: dict[str, str]) -> list[str]:
    """One field's value as lines of text ("—" when empty)."""
    if value is None or value == "" or value == []:
        return ["—"]
    if field in ("legal_halves", "promised_halves"):
        return [halves_text(value)]
    if field == "kind":
        return [str(KINDS.get(value, value))]
    if field == "power_type":
        return [str(POWER_TYPES.get(value, value))]
    if field == "department":
        return [departments.get(value, value)]
    if field == "joint_departments":
        return [departments.get(v, v) for v in value]
    if field == "channels":
        return [str(CHANNELS.get(v, v)) for v in value]
    if field == "materials":
        return [_material(m) for m in value]
    if field == "steps":
        return [_step(s) for s in value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


LISTS = ("joint_departments", "channels", "materials", "steps")


def changes(
    old: dict[str, Any] | None, new: dict[str, Any], departments: dict[str, str]
) -> list[dict[str, Any]]:
    """content.diff rows with ``before`` / ``after`` as lines of text.

    For lists (materials, steps …) only the entries that differ are shown: ``before`` holds
    the removed or changed entries, ``after`` the added or changed ones, ``same`` counts the
    entries both versions share.
    """
    out = []
    for row in content.diff(old, new):
        field = row["field"]
        before = describe(field, row["old"], departments)
        after = describe(field, row["new"], departments)
        same = 0
        if field in LISTS and row["old"] and row["new"]:
            removed = [line for line in before if line not in after]
            added = [line for line in after if line not in before]
            if removed or added:  # else only the order changed: show both lists whole
                same = len(before) - len(removed)
                before, after = removed or ["—"], added or ["—"]
        out.append({**row, "before": before, "after": after, "same": same})
    return out
