"""An item's process flowchart (办事流程图), drawn on the server as SVG.

Derived from the item's kind and its ``steps``: one box per step, top to bottom, each saying
who does it and its time limit; a joint item's sign-off is a row of boxes side by side, one
per signing department.  Without steps, a default process per kind is drawn.  The SVG uses
presentation attributes and classes only (no ``style=``), so it works under the CSP, on
screen and in print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from app.catalogue.content import halves_text
from app.web.i18n import gettext as _

WIDTH = 340  # viewBox units; the CSS scales the drawing to the column
MARGIN = 12
BOX_W = WIDTH - 2 * MARGIN - 40
GAP = 30  # vertical space for an arrow between rows
PAD = 8
TITLE_SIZE, TEXT_SIZE = 15, 13
PER_ROW = 3  # at most this many signing departments side by side; more wrap onto new rows
FONT = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
INK, LINE, ACCENT, MUTED = "#1d2329", "#5f6b76", "#b3261e", "#5f6b76"
# Characters XML 1.0 does not allow (a pasted control character would break the document).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SIGN = re.compile("会签|联办|sign", re.IGNORECASE)


@dataclass
class Box:
    name: str
    actor: str
    limit: str = ""


@dataclass
class Parallel:
    """Boxes side by side (a joint item's sign-off by each department)."""

    title: str
    boxes: list[Box] = field(default_factory=list)


Row = Box | Parallel


def split(total: int, weights: tuple[int, ...]) -> list[int]:
    """``total`` half-days shared out by ``weights`` (largest remainder; sums to ``total``)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _limit(kind: str, halves: int | None) -> str:
    if halves is None:
        return ""
    if halves == 0:
        return halves_text(0) if kind == "immediate" else ""
    return _("Limit: %(limit)s", limit=halves_text(halves))


def rows_of(content: dict[str, Any], departments: dict[str, str]) -> list[Row]:
    """The flowchart's rows: the item's own steps, or the default process of its kind."""
    kind = str(content.get("kind", "promised"))
    dept = departments.get(content.get("department", ""), content.get("department", ""))
    signers = [departments.get(c, c) for c in content.get("joint_departments") or []]
    steps = content.get("steps") or []
    if steps:
        rows: list[Row] = [
            Box(s.get("name", ""), s.get("actor", ""), _limit(kind, s.get("halves", 0)))
            for s in steps
        ]
        if kind == "joint" and signers:
            at = next((i for i, s in enumerate(steps) if _SIGN.search(s.get("name", ""))), None)
            if at is None:  # sign-off not among the steps: after the first (acceptance)
                rows.insert(min(1, len(rows)), _signing(_("Sign-off"), signers, ""))
            else:
                step = steps[at]
                rows[at] = _signing(step["name"], signers, _limit(kind, step.get("halves", 0)))
        return rows
    window = _("Window (A post)")
    promised = int(content.get("promised_halves") or 0)
    accept = Box(_("Accept"), window, _limit(kind, 0))
    deliver = Box(_("Deliver"), window)
    if kind == "immediate":
        return [accept, Box(_("Concluded on the spot"), window, _limit(kind, 0))]
    if kind == "joint":
        sign, decide, conclude = split(promised, (2, 1, 1))
        return [
            accept,
            _signing(_("Sign-off"), signers, _limit(kind, sign)),
            Box(_("Decision"), _("Head of %(dept)s", dept=dept), _limit(kind, decide)),
            Box(_("Conclude"), dept, _limit(kind, conclude)),
            deliver,
        ]
    if kind == "escalated":
        first, upper, conclude = split(promised, (1, 2, 1))
        return [
            accept,
            Box(_("Preliminary review"), dept, _limit(kind, first)),
            Box(
                _("Decision by the superior department"),
                _("Superior department"),
                _limit(kind, upper),
            ),
            Box(_("Conclude"), dept, _limit(kind, conclude)),
            deliver,
        ]
    review, decide, conclude = split(promised, (2, 2, 1))
    return [
        accept,
        Box(_("Review"), dept, _limit(kind, review)),
        Box(_("Decision"), _("Head of %(dept)s", dept=dept), _limit(kind, decide)),
        Box(_("Conclude"), dept, _limit(kind, conclude)),
        deliver,
    ]


def _signing(name: str, signers: list[str], limit: str) -> Parallel:
    return Parallel(_("Joint sign-off (in parallel)"), [Box(name, s, limit) for s in signers])


# --- drawing ------------------------------------------------------------------------------


def _clean(text: Any) -> str:
    return _NOT_XML.sub("", str(text))


def _width(text: str, size: int) -> float:
    """Rough rendered width: CJK and full-width characters are 1 em, the rest about 0.6 em."""
    return sum(size * (1.0 if ord(ch) > 0x2E7F else 0.6) for ch in text)


_TOKEN = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+")


def wrap(text: str, room: float, size: int, max_lines: int = 2) -> list[str]:
    """Break ``text`` into lines that fit ``room`` (between words, or between CJK characters);
    the last line ends with … if the text is cut."""
    lines, line = [], ""
    for token in _TOKEN.findall(" ".join(_clean(text).split())):
        if _width(line + token, size) <= room:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if token.isspace() else token
        while _width(line, size) > room:  # one word wider than the box: cut it
            cut = next((i for i in range(len(line), 1, -1) if _width(line[:i], size) <= room), 1)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _width(last + "…", size) > room:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def _text(x: float, y: float, line: str, size: int, fill: str, cls: str, bold: bool = False) -> str:
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{size}"'
        f' fill="{fill}" class={quoteattr(cls)}{weight}>{escape(line)}</text>'
    )


def _box_lines(box: Box, width: float) -> list[tuple[str, int, str, str, bool]]:
    room = width - 2 * PAD
    out = [(t, TITLE_SIZE, INK, "fc-step", True) for t in wrap(box.name, room, TITLE_SIZE)]
    out += [(t, TEXT_SIZE, MUTED, "fc-actor", False) for t in wrap(box.actor, room, TEXT_SIZE)]
    if box.limit:
        out += [(t, TEXT_SIZE, ACCENT, "fc-limit", False) for t in wrap(box.limit, room, TEXT_SIZE)]
    return out


def _height(lines: list[tuple[str, int, str, str, bool]]) -> float:
    return 2 * PAD + sum(size + 5 for _t, size, *_rest in lines)


def _draw_box(x: float, y: float, w: float, h: float, box: Box, rounded: bool) -> list[str]:
    lines = _box_lines(box, w)
    radius = 14 if rounded else 4
    parts = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius}"'
        f' fill="#ffffff" stroke="{ACCENT if rounded else LINE}" stroke-width="1.5"'
        ' class="fc-box"/>'
    ]
    cy = y + PAD + (h - _height(lines)) / 2
    for text, size, fill, cls, bold in lines:
        cy += size + 2
        parts.append(_text(x + w / 2, cy, text, size, fill, cls, bold))
        cy += 3
    return parts


def _arrow(x: float, y1: float, y2: float) -> list[str]:
    return [
        f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2 - 6:.1f}" stroke="{LINE}"'
        ' stroke-width="1.5" class="fc-arrow"/>',
        f'<polygon points="{x - 5:.1f},{y2 - 8:.1f} {x + 5:.1f},{y2 - 8:.1f} {x:.1f},{y2:.1f}"'
        f' fill="{LINE}" class="fc-arrow"/>',
    ]


def _per_row(boxes: list[Box], room: float, gap: float) -> int:
    """As many boxes side by side as keep every department's name on one line (1 to 3)."""
    for n in range(min(PER_ROW, len(boxes)), 1, -1):
        width = (room - (n - 1) * gap) / n - 2 * PAD
        if all(_width(b.actor, TEXT_SIZE) <= width for b in boxes):
            return n
    return 1


def _draw_parallel(y: float, row: Parallel) -> tuple[list[str], float]:
    """The group frame with its boxes in rows of up to PER_ROW; returns (parts, bottom)."""
    inner_w = WIDTH - 2 * MARGIN
    gap = 8
    parts: list[str] = []
    title = wrap(row.title, inner_w - 2 * PAD, TEXT_SIZE, 1)
    top = y
    y += PAD + TEXT_SIZE + 6
    title_y = top + PAD + TEXT_SIZE
    boxes = row.boxes or [Box("", "")]
    per_row = _per_row(boxes, inner_w - 2 * PAD, gap)
    for start in range(0, len(boxes), per_row):
        chunk = boxes[start : start + per_row]
        n = len(chunk)
        w = (inner_w - 2 * PAD - (n - 1) * gap) / n
        h = max(_height(_box_lines(b, w)) for b in chunk)
        x: float = MARGIN + PAD
        for b in chunk:
            parts += _draw_box(x, y, w, h, b, rounded=False)
            x += w + gap
        y += h + gap
    bottom = y - gap + PAD
    frame = (
        f'<rect x="{MARGIN}" y="{top:.1f}" width="{inner_w}" height="{bottom - top:.1f}" rx="6"'
        f' fill="#f5f6f8" stroke="{LINE}" stroke-width="1" stroke-dasharray="5 4"'
        ' class="fc-group"/>'
    )
    label = [_text(WIDTH / 2, title_y, t, TEXT_SIZE, MUTED, "fc-group-title") for t in title]
    return [frame, *label, *parts], bottom


def flowchart_svg(content: dict[str, Any], departments: dict[str, str]) -> str:
    """The flowchart of one item version as a standalone, well-formed SVG document fragment.

    ``departments`` maps department code → short name.  Every piece of text (the item's and
    the departments' names, steps, actors) goes through ``escape``/``quoteattr`` here.
    """
    kind = str(content.get("kind", "promised"))
    rows = rows_of(content, departments)
    body: list[str] = []
    y: float = MARGIN
    x0 = (WIDTH - BOX_W) / 2
    for i, row in enumerate(rows):
        if i:
            body += _arrow(WIDTH / 2, y, y + GAP)
            y += GAP
        if isinstance(row, Parallel):
            parts, y = _draw_parallel(y, row)
            body += parts
        else:
            h = _height(_box_lines(row, BOX_W))
            body += _draw_box(x0, y, BOX_W, h, row, rounded=i in (0, len(rows) - 1))
            y += h
    y += 22
    promised = halves_text(int(content.get("promised_halves") or 0))
    legal = halves_text(int(content.get("legal_halves") or 0))
    totals = [
        _("Promised limit: %(limit)s", limit=promised),
        _("Legal limit: %(limit)s", limit=legal),
    ]
    if kind == "immediate":
        totals = [_("Immediate item: concluded on the spot"), totals[1]]
    for line in totals:
        body.append(_text(WIDTH / 2, y, line, TEXT_SIZE + 1, INK, "fc-total", bold=True))
        y += TEXT_SIZE + 8
    height = y + MARGIN - 6
    title = _("Process flowchart: %(name)s", name=_clean(content.get("name", "")))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}"'
        f' class="flowchart-svg" role="img" aria-label={quoteattr(title)}'
        f" font-family={quoteattr(FONT)}>"
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def flowchart_html(content: dict[str, Any], departments: dict[str, str]) -> Markup:
    """The flowchart for a template, marked safe for Jinja.

    AUDITED (the one place the catalogue marks markup safe): ``flowchart_svg`` builds the
    markup from fixed tags and numbers, and passes every piece of user text — item name,
    steps, actors, department names, translated labels — through ``xml.sax.saxutils.escape``
    (element text) or ``quoteattr`` (attribute values) after removing characters XML forbids.
    Nothing user-supplied reaches the output unescaped, so the result is safe as HTML too.
    """
    return Markup(flowchart_svg(content, departments))  # noqa: S704 - escaped above
