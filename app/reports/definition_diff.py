"""What changed between two versions of a report form, field by field: the settings of the
form, and each section, field and rule added, removed or changed (which attribute, from
what to what), for the read-only page of a version.

Sections, fields and rules are matched by their keys; a field that moved to another section
is "changed" with its section as the attribute.  Values are shown as people read them
(labels instead of codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.reports.definition import FIELD_TYPES, FILER_KINDS, LEVELS, ROLLUPS, SOURCES
from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

FORM_ATTRS = {
    "filers": _l("Filed by"),
    "due_day": _l("Due day"),
    "lock_day": _l("Lock day"),
    "intro": _l("Introduction"),
}
SECTION_ATTRS = {"title": _l("Section title"), "help": _l("Help text")}
FIELD_ATTRS = {
    "label": _l("Field label"),
    "type": _l("Field type"),
    "required": _l("Must be filled in"),
    "unit": _l("Unit"),
    "help": _l("Help text"),
    "choices": _l("Choices"),
    "source": _l("Pre-filled from case records"),
    "rollup": _l("Roll-up"),
}
RULE_ATTRS = {
    "level": _l("Blocking or warning"),
    "expr": _l("Expression"),
    "message": _l("Message to the centre"),
}


@dataclass(frozen=True)
class Attr:
    name: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """One part of the form: ``part`` form|section|field|rule, ``action``
    added|removed|changed, and for a change the attributes that differ."""

    part: str
    action: str
    key: str
    title: str
    summary: str = ""
    attrs: list[Attr] = field(default_factory=list)


def shown(attr: str, value: Any) -> str:
    """An attribute's value as text for people."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels: dict[str, Any] = {
        "type": FIELD_TYPES,
        "source": SOURCES,
        "rollup": ROLLUPS,
        "level": LEVELS,
    }.get(attr, {})
    if attr == "filers":
        return "、".join(str(FILER_KINDS.get(v, v)) for v in value)
    if attr == "choices":
        return " / ".join(value)
    return str(labels.get(value, value))


def field_summary(f: dict[str, Any]) -> str:
    parts = [shown("type", f.get("type"))]
    parts.append(_("required") if f.get("required", True) else _("optional"))
    if f.get("unit"):
        parts.append(f["unit"])
    if f.get("source"):
        parts.append(_("from %(source)s", source=shown("source", f["source"])))
    if f.get("choices"):
        parts.append(shown("choices", f["choices"]))
    return " · ".join(parts)


def _attrs(old: dict[str, Any], new: dict[str, Any], names: dict[str, Any]) -> list[Attr]:
    return [
        Attr(name, str(label), shown(name, old.get(name)), shown(name, new.get(name)))
        for name, label in names.items()
        if old.get(name) != new.get(name)
    ]


def _order(old: list[str], new: list[str]) -> tuple[list[str], list[str]] | None:
    """The keys both lists hold, in each one's order, when that order differs."""
    common = set(old) & set(new)
    before, after = [k for k in old if k in common], [k for k in new if k in common]
    return (before, after) if before != after else None


def _fields(definition: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Field key → (field, its section)."""
    return {f["key"]: (f, s) for s in definition.get("sections", []) for f in s.get("fields", [])}


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new`` (an empty list when they are equal)."""
    if old is None:
        return []
    out: list[Change] = []
    form_attrs = _attrs(old, new, FORM_ATTRS)
    old_sections = {s["key"]: s for s in old.get("sections", [])}
    new_sections = {s["key"]: s for s in new.get("sections", [])}
    order = _order(list(old_sections), list(new_sections))
    if order:
        form_attrs.append(Attr("order", _("Order of the sections"), *map("、".join, order)))
    if form_attrs:
        out.append(Change("form", "changed", "", _("Form settings"), attrs=form_attrs))

    for key, s in new_sections.items():
        if key not in old_sections:
            n = len(s.get("fields", []))
            out.append(Change("section", "added", key, s["title"], _("%(n)s fields", n=n)))
            continue
        before = old_sections[key]
        attrs = _attrs(before, s, SECTION_ATTRS)
        fields_order = _order(
            [f["key"] for f in before.get("fields", [])], [f["key"] for f in s.get("fields", [])]
        )
        if fields_order:
            attrs.append(Attr("order", _("Order of the fields"), *map("、".join, fields_order)))
        if attrs:
            out.append(Change("section", "changed", key, s["title"], attrs=attrs))
    for key, s in old_sections.items():
        if key not in new_sections:
            out.append(Change("section", "removed", key, s["title"]))

    old_fields, new_fields = _fields(old), _fields(new)
    for key, (f, s) in new_fields.items():
        if key not in old_fields:
            out.append(Change("field", "added", key, f["label"], field_summary(f)))
            continue
        before, before_section = old_fields[key]
        attrs = _attrs(before, f, FIELD_ATTRS)
        if before_section["key"] != s["key"]:
            attrs.insert(0, Attr("section", _("Section"), before_section["title"], s["title"]))
        if attrs:
            out.append(Change("field", "changed", key, f["label"], attrs=attrs))
    for key, (f, _s) in old_fields.items():
        if key not in new_fields:
            out.append(Change("field", "removed", key, f["label"], field_summary(f)))

    old_rules = {r["key"]: r for r in old.get("rules", [])}
    new_rules = {r["key"]: r for r in new.get("rules", [])}
    for key, r in new_rules.items():
        if key not in old_rules:
            out.append(Change("rule", "added", key, r["message"], r["expr"]))
        elif attrs := _attrs(old_rules[key], r, RULE_ATTRS):
            out.append(Change("rule", "changed", key, r["message"], attrs=attrs))
    for key, r in old_rules.items():
        if key not in new_rules:
            out.append(Change("rule", "removed", key, r["message"], r["expr"]))
    return out
