"""The server-side SVG chart: escaping, empty data, a single point, all zeros, thinning."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from markupsafe import Markup

from app.reports.chart import Point, chart, label_step, svg, ticks

NS = "{http://www.w3.org/2000/svg}"


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own output: well-formed, or this raises


def _points(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == "chart-pt"]


def _labels(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text") if t.get("class") == "chart-label"]


def test_text_is_escaped_everywhere() -> None:
    evil = '<script>alert("x")</script>&'
    drawn = chart(
        [Point(evil, Decimal(3), evil), Point("b", Decimal(5))],
        title=evil,
        ident='x" onload="alert(1)',
        tick=lambda v: evil,
        empty=evil,
    )
    assert isinstance(drawn, Markup)
    assert "<script" not in drawn
    assert "&lt;script&gt;" in drawn
    assert 'onload="' not in drawn  # the id keeps [a-z0-9-] only
    assert 'aria-labelledby="xonloadalert1-title"' in drawn
    root = _parse(str(drawn))
    assert root.find(f"{NS}title").text == evil  # type: ignore[union-attr]
    assert _points(root)[0].find(f"{NS}title").text == f"{evil}: {evil}"  # type: ignore[union-attr]
    short = _parse(svg([Point("<b>", 1)], title="t"))
    assert _labels(short) == ["<b>"]
    assert all("\x01" not in t for t in svg([Point("a\x01b", 1)], title="t\x02"))


def test_empty_data_says_so() -> None:
    for points in ([], [Point("2028-02", None), Point("2028-03", None)]):
        root = _parse(svg(points, title="t", empty="No data <here>"))
        assert not _points(root)
        texts = [t.text for t in root.iter(f"{NS}text")]
        assert texts == ["No data <here>"]


def test_single_point_and_all_zero_values() -> None:
    root = _parse(svg([Point("2028-02", Decimal(7))], title="one", kind="line"))
    assert len(_points(root)) == 1
    dot = next(root.iter(f"{NS}circle"))
    assert float(dot.get("cx", "0")) > 100  # centred, not at the edge
    for kind in ("line", "bar"):
        zeros = [Point(f"m{i}", Decimal(0)) for i in range(5)]
        text = svg(zeros, title="zeros", kind=kind)  # type: ignore[arg-type]
        assert "nan" not in text.lower() and "inf" not in text.lower()
        root = _parse(text)
        assert len(_points(root)) == 5
    assert ticks(0, 0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ticks(0, 0, integer=True) == [0.0, 1.0]
    assert ticks(0, 87.5) == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_gaps_break_the_line_and_hover_titles_carry_values() -> None:
    points = [Point("a", 1), Point("b", None), Point("c", 3, "3.0%")]
    root = _parse(svg(points, title="t"))
    path = next(p for p in root.iter(f"{NS}path") if p.get("class") == "chart-line")
    assert path.get("d", "").count("M") == 2 and "L" not in path.get("d", "")
    titles = [g.find(f"{NS}title").text for g in _points(root)]  # type: ignore[union-attr]
    assert titles == ["a: 1", "c: 3.0%"]


def test_labels_are_thinned_to_at_most_twelve() -> None:
    months = [Point(f"20{25 + i // 12}-{i % 12 + 1:02d}", i) for i in range(36)]
    root = _parse(svg(months, title="t", kind="bar", max_labels=12))
    labels = _labels(root)
    assert 1 < len(labels) <= 12
    assert labels[-1] == months[-1].label  # the newest month keeps its label
    assert len(_points(root)) == 36
    assert label_step(["x"] * 5, 1000) == 1
    assert label_step(["x"] * 30, 1000, max_labels=12) == 3
    assert root.get("viewBox") == "0 0 400 250" and root.get("width") is None
