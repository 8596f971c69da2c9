"""The checklist editor's form: plain inputs, one row per checklist item, no JavaScript.

Inputs: ``code``, ``title``, ``kind`` (new checklist only), ``effective_from``,
``change_note``, ``expected`` (the version the editor was opened on), then per section
``s{i}-key``/``s{i}-title`` and per item ``s{i}-{j}-key``/``-text``/``-guidance``/``-max``/
``-photo``/``-remove``.  The buttons ``more=section`` and ``more=item-{i}`` add a blank row
and re-render.  A blank item row (and a blank section) is ignored; a blank item key is filled
in (keys must stay once inspections use them).  Problems are attached to the inputs' names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.inspections import definition as definitions
from app.inspections.definition import DefinitionError
from app.web.i18n import gettext as _

SECTION = re.compile(r"^s(\d{1,2})-(key|title)$")
ITEM = re.compile(r"^s(\d{1,2})-(\d{1,3})-(key|text|guidance|max|photo|remove)$")
FIELD_OF = {"max_score": "max", "photo_required": "photo"}


@dataclass
class Editor:
    code: str = ""
    title: str = ""
    kind: str = "centre"
    effective_from: str = ""
    change_note: str = ""
    expected: str = ""
    sections: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(name, m) for name, messages in self.errors.items() for m in messages]


def blank_item() -> dict[str, Any]:
    return {"key": "", "text": "", "guidance": "", "max": "", "photo": False, "remove": False}


def blank_section(n_items: int = 3) -> dict[str, Any]:
    return {"key": "", "title": "", "items": [blank_item() for _ in range(n_items)]}


def from_definition(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Editor rows of a stored definition."""
    return [
        {
            "key": s["key"],
            "title": s["title"],
            "items": [
                {
                    "key": i["key"],
                    "text": i["text"],
                    "guidance": i.get("guidance", ""),
                    "max": str(i["max_score"]),
                    "photo": bool(i.get("photo_required")),
                    "remove": False,
                }
                for i in s["items"]
            ],
        }
        for s in data.get("sections", [])
    ]


def parse(form: Any) -> tuple[Editor, str]:
    """The posted editor and the row button pressed ('' = save)."""
    get = lambda name: str(form.get(name) or "")  # noqa: E731
    editor = Editor(
        code=get("code").strip(),
        title=get("title").strip(),
        kind=get("kind") or "centre",
        effective_from=get("effective_from").strip(),
        change_note=get("change_note").strip(),
        expected=get("expected").strip(),
    )
    sections: dict[int, dict[str, Any]] = {}
    for name in form.keys():
        if m := SECTION.match(name):
            sections.setdefault(int(m[1]), {"key": "", "title": "", "items": {}})[m[2]] = get(
                name
            ).strip()
        elif m := ITEM.match(name):
            s = sections.setdefault(int(m[1]), {"key": "", "title": "", "items": {}})
            row = s["items"].setdefault(int(m[2]), blank_item())
            if m[3] in ("photo", "remove"):
                row[m[3]] = bool(get(name))
            else:
                row[m[3]] = get(name).strip()
    for i in sorted(sections):
        s = sections[i]
        editor.sections.append(
            {
                "key": s["key"],
                "title": s["title"],
                "items": [s["items"][j] for j in sorted(s["items"])],
            }
        )
    more = get("more")
    if more == "section":
        editor.sections.append(blank_section(1))
    elif more.startswith("item-") and more[5:].isascii() and more[5:].isdigit():
        index = int(more[5:])
        if index < len(editor.sections):
            editor.sections[index]["items"].append(blank_item())
    return editor, more


def _blank(row: dict[str, Any]) -> bool:
    return not (row["key"] or row["text"] or row["guidance"] or row["max"])


def to_definition(editor: Editor) -> tuple[dict[str, Any], list[tuple[int, list[int]]]]:
    """The definition posted (blank rows dropped, blank keys filled in) and, per kept section,
    its row index and the row indexes of its kept items."""
    used = {s["key"] for s in editor.sections} | {
        i["key"] for s in editor.sections for i in s["items"]
    }

    def fresh(prefix: str) -> str:
        n = 1
        while f"{prefix}{n}" in used:
            n += 1
        used.add(f"{prefix}{n}")
        return f"{prefix}{n}"

    sections, where = [], []
    for si, s in enumerate(editor.sections):
        kept = [j for j, row in enumerate(s["items"]) if not row["remove"] and not _blank(row)]
        if not kept and not s["key"] and not s["title"]:
            continue
        if not s["key"]:
            s["key"] = fresh("s")
        items = []
        for j in kept:
            row = s["items"][j]
            if not row["key"]:
                row["key"] = fresh(f"{s['key'][:1]}")
            items.append(
                {
                    "key": row["key"],
                    "text": row["text"],
                    "guidance": row["guidance"],
                    "max_score": row["max"],
                    "photo_required": row["photo"],
                }
            )
        sections.append({"key": s["key"], "title": s["title"], "items": items})
        where.append((si, kept))
    return {"sections": sections}, where


def check(
    editor: Editor, *, new: bool, earliest: date | None
) -> tuple[dict[str, Any], date | None]:
    """Validate everything, attaching problems to the inputs; the definition and the date."""
    from app.inspections.checklists import header_problems

    code, kind = (editor.code, editor.kind) if new else (None, None)
    for name, problem in header_problems(code, editor.title, kind):
        editor.add(name, problem)
    day: date | None = None
    try:
        day = date.fromisoformat(editor.effective_from)
    except ValueError:
        editor.add("effective_from", _("Effective from: enter a date (yyyy-mm-dd)"))
    if day is not None and earliest is not None and day < earliest:
        editor.add(
            "effective_from",
            _("Effective from: on or after %(day)s", day=earliest.isoformat()),
        )
    if len(editor.change_note) > 1000:
        editor.add("change_note", _("Change note: at most 1000 characters"))
    data, where = to_definition(editor)
    _duplicates(editor, where)
    try:
        definitions.validate(data)
    except DefinitionError as exc:
        for problem, loc in zip(exc.problems, exc.locations, strict=False):
            target = _input_name(loc, where)
            if target is None:
                if problem not in [m for _n, m in editor.problems]:  # duplicates: shown already
                    editor.general.append(problem)
            else:
                editor.add(target, problem)
    return data, day


def _duplicates(editor: Editor, where: list[tuple[int, list[int]]]) -> None:
    seen: dict[str, str] = {}
    for si, kept in where:
        names = [(f"s{si}-key", editor.sections[si]["key"])]
        names += [(f"s{si}-{j}-key", editor.sections[si]["items"][j]["key"]) for j in kept]
        for name, key in names:
            if key in seen:
                editor.add(name, _("The key %(key)s is used twice", key=key))
            seen.setdefault(key, name)


def _input_name(loc: tuple[Any, ...], where: list[tuple[int, list[int]]]) -> str | None:
    if len(loc) < 2 or loc[0] != "sections" or not isinstance(loc[1], int):
        return None
    if loc[1] >= len(where):
        return None
    si, kept = where[loc[1]]
    if len(loc) >= 4 and loc[2] == "items" and isinstance(loc[3], int) and loc[3] < len(kept):
        j = kept[loc[3]]
        name = str(loc[4]) if len(loc) > 4 else "text"
        return f"s{si}-{j}-{FIELD_OF.get(name, name)}"
    if len(loc) >= 3 and loc[2] in ("key", "title"):
        return f"s{si}-{loc[2]}"
    return f"s{si}-title"
