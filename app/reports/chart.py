"""A small line or bar chart drawn on the server as SVG (the roll-up's trend per field).

A pure function of the data: ``svg(points, …)`` returns the markup as a string, ``chart(…)``
the same marked safe for Jinja (the one audited place).  The drawing is sized by its
``viewBox`` only — the CSS (static/css/reports-rollup.css) makes it as wide as its column —
and its text is large enough to read on a 360 px phone.  Each point carries a ``<title>``
(shown on hover); the page puts the same numbers in a plain table below, the accessible
fallback.  Presentation attributes and classes only: no ``style=`` (CSP).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

WIDTH, HEIGHT = 400, 250  # viewBox units; ~0.8 px each on a 360 px phone
FONT_SIZE = 15
PAD_TOP, PAD_RIGHT, PAD_BOTTOM = 14, 12, 30
TICKS = 4  # horizontal grid lines (about)
MAX_LABELS = 12
FONT = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
INK, GRID, ACCENT = "#1d2329", "#d9dee3", "#b3261e"
# Characters XML 1.0 does not allow (a pasted control character would break the document).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_IDENT = re.compile(r"[^a-z0-9-]")

Number = Decimal | int | float


@dataclass(frozen=True)
class Point:
    """One x position: its axis label, its value (None: nothing to show) and the value as
    the page writes it (hover text; defaults to the plain number)."""

    label: str
    value: Number | None
    text: str = ""


def _clean(text: str) -> str:
    return _NOT_XML.sub("", str(text))


def _t(text: str) -> str:
    """Element text, escaped."""
    return escape(_clean(text))


def _a(text: str) -> str:
    """An attribute value, quoted and escaped."""
    return quoteattr(_clean(text))


def _n(x: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    out = f"{x:.1f}"
    return out[:-2] if out.endswith(".0") else out


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the width of ``text``: CJK characters one em, others about 0.6."""
    return sum(size * (1.0 if ord(c) >= 0x2E80 else 0.6) for c in text)


def plain(value: float) -> str:
    """A tick value without float noise (12, 2.5, 0.25)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6g}"


def ticks(low: float, high: float, *, integer: bool = False, count: int = TICKS) -> list[float]:
    """Evenly spaced round values covering ``low``..``high`` (0 included when in range).
    A flat range (all values equal, e.g. all zero) still gets a span of 1: never a zero
    divisor."""
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    span = high - low
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * magnitude
        if span / candidate <= count + 1e-9:
            step = candidate
            break
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    out, i = [], 0
    while True:
        value = round(start + i * step, 10)
        out.append(value)
        if value >= end - 1e-9 or i > 50:
            break
        i += 1
    return out


def label_step(labels: Sequence[str], room: float, max_labels: int = MAX_LABELS) -> int:
    """Show every ``step``-th x label so that they neither overlap nor exceed
    ``max_labels``."""
    n = len(labels)
    if n <= 1:
        return 1
    widest = max(text_width(_clean(s)) for s in labels) + FONT_SIZE * 0.6
    fit = max(1, min(max_labels, int(room // widest)))
    return max(1, math.ceil(n / fit))


def svg(
    points: Sequence[Point],
    *,
    title: str,
    kind: Literal["line", "bar"] = "line",
    ident: str = "chart",
    empty: str = "",
    tick: Callable[[float], str] = plain,
    integer: bool = False,
    max_labels: int = MAX_LABELS,
) -> str:
    """The chart as SVG text.  ``tick`` writes a y-axis value; ``integer`` keeps y ticks
    whole; ``empty`` is said when no point has a value."""
    ident = _IDENT.sub("", ident.lower())[:40] or "chart"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' class="chart chart-{kind}" role="img" aria-labelledby="{ident}-title"'
        f' font-family={_a(FONT)} font-size="{FONT_SIZE}">'
        f'<title id="{ident}-title">{_t(title)}</title>'
    )
    values = [float(p.value) for p in points if p.value is not None]
    if not values:
        return (
            f'{head}<rect class="chart-frame" x="0.5" y="0.5" width="{WIDTH - 1}"'
            f' height="{HEIGHT - 1}" fill="none" stroke="{GRID}"/>'
            f'<text class="chart-empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}"'
            f' text-anchor="middle" fill="{INK}">{_t(empty)}</text></svg>'
        )
    marks = ticks(min(0.0, *values), max(0.0, *values), integer=integer)
    low, high = marks[0], marks[-1]
    left = max(text_width(_clean(tick(m))) for m in marks) + 10
    plot_w = WIDTH - left - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    band = plot_w / len(points)

    def x_at(i: int) -> float:
        return left + band * (i + 0.5)

    def y_at(value: float) -> float:
        return PAD_TOP + plot_h * (high - value) / (high - low)

    body: list[str] = []
    for m in marks:
        y = y_at(m)
        body.append(
            f'<line class="chart-grid{" chart-zero" if m == 0 else ""}" x1="{_n(left)}"'
            f' y1="{_n(y)}" x2="{_n(WIDTH - PAD_RIGHT)}" y2="{_n(y)}" stroke="{GRID}"/>'
            f'<text class="chart-tick" x="{_n(left - 6)}" y="{_n(y + FONT_SIZE * 0.35)}"'
            f' text-anchor="end" fill="{INK}">{_t(tick(m))}</text>'
        )
    step = label_step([p.label for p in points], plot_w, max_labels)
    last = len(points) - 1
    for i, p in enumerate(points):
        if (last - i) % step == 0:  # the newest month always has its label
            body.append(
                f'<text class="chart-label" x="{_n(x_at(i))}" y="{HEIGHT - 8}"'
                f' text-anchor="middle" fill="{INK}">{_t(p.label)}</text>'
            )
    if kind == "line":
        path, pen_down = [], False
        for i, p in enumerate(points):
            if p.value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{_n(x_at(i))} {_n(y_at(float(p.value)))}")
            pen_down = True
        body.append(
            f'<path class="chart-line" d="{" ".join(path)}" fill="none" stroke="{ACCENT}"'
            ' stroke-width="2.5" stroke-linejoin="round"/>'
        )
    zero = y_at(0.0)
    for i, p in enumerate(points):
        if p.value is None:
            continue
        value = float(p.value)
        hover = f"{p.label}: {p.text or plain(value)}"
        if kind == "bar":
            top, bottom = sorted((y_at(value), zero))
            mark = (
                f'<rect class="chart-bar" x="{_n(x_at(i) - band * 0.3)}" y="{_n(top)}"'
                f' width="{_n(band * 0.6)}" height="{_n(max(bottom - top, 0.5))}"'
                f' fill="{ACCENT}"/>'
            )
        else:
            mark = (
                f'<circle class="chart-dot" cx="{_n(x_at(i))}" cy="{_n(y_at(value))}" r="4"'
                f' fill="{ACCENT}"/>'
            )
        body.append(
            f'<g class="chart-pt"><title>{_t(hover)}</title>'
            f'<rect class="chart-hit" x="{_n(left + band * i)}" y="{PAD_TOP}"'
            f' width="{_n(band)}" height="{_n(plot_h)}" fill="transparent"/>{mark}</g>'
        )
    return head + "".join(body) + "</svg>"


def chart(
    points: Sequence[Point],
    *,
    title: str,
    kind: Literal["line", "bar"] = "line",
    ident: str = "chart",
    empty: str = "",
    tick: Callable[[float], str] = plain,
    integer: bool = False,
    max_labels: int = MAX_LABELS,
) -> Markup:
    """The chart, marked safe for Jinja.

    AUDITED (the one place the roll-up marks markup safe): ``svg`` builds the drawing from
    fixed tags and numbers it formats itself; every piece of text — the title, the x labels,
    the hover texts, the tick labels and the empty message — goes through
    ``xml.sax.saxutils.escape`` (element text) or ``quoteattr`` (attribute values) after the
    characters XML forbids are removed, and the element id is reduced to ``[a-z0-9-]``.
    Nothing passed in reaches the output unescaped, so the result is safe inside HTML.
    """
    drawn = svg(
        points,
        title=title,
        kind=kind,
        ident=ident,
        empty=empty,
        tick=tick,
        integer=integer,
        max_labels=max_labels,
    )
    return Markup(drawn)  # noqa: S704 - every text escaped in svg() (see above)
