"""The server-side SVG flowchart: steps, signing departments, escaping, well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from app.catalogue.flowchart import flowchart_html, flowchart_svg, rows_of, split, wrap
from app.web import i18n

SVG = "{http://www.w3.org/2000/svg}"
DEPTS = {
    "mzj": "民政局",
    "jsj": "建设（环保）局",
    "gtj": "国土资源局",
    "slj": "水利局",
    "nyj": "农业局",
    "evil": "<script>alert('x')</script>&部门",
}


@pytest.fixture(autouse=True)
def english() -> Any:
    token = i18n.set_locale("en")
    yield
    i18n._current.reset(token)


def content(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "最低生活保障申请",
        "department": "mzj",
        "kind": "promised",
        "joint_departments": [],
        "legal_halves": 40,
        "promised_halves": 20,
        "steps": [],
    }
    base.update(changes)
    return base


def parse(svg: str) -> ET.Element:
    """Our own output (the point is to check it is well-formed XML), not untrusted input."""
    return ET.fromstring(svg)  # noqa: S314


def texts(svg: str) -> list[str]:
    root = parse(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_default_promised_steps_share_the_promised_limit() -> None:
    svg = flowchart_svg(content(), DEPTS)
    lines = texts(svg)
    for step in ("Accept", "Review", "Decision", "Conclude", "Deliver"):
        assert step in lines, step
    assert "民政局" in lines and "Head of 民政局" in lines
    # 10 days = 20 half-days split 2:2:1 over review, decision, conclusion.
    assert lines.count("Limit: 4 working days") == 2 and "Limit: 2 working days" in lines
    assert "Promised limit: 10 working days" in lines and "Legal limit: 20 working days" in lines
    assert "style=" not in svg and "<script" not in svg


def test_split_sums_to_the_total() -> None:
    for total in range(0, 41):
        for weights in ((2, 2, 1), (2, 1, 1), (1, 2, 1)):
            parts = split(total, weights)
            assert sum(parts) == total and all(p >= 0 for p in parts)
    assert split(5, (2, 2, 1)) == [2, 2, 1]
    assert split(1, (2, 2, 1)) == [1, 0, 0]


def test_immediate_is_on_the_spot() -> None:
    lines = texts(flowchart_svg(content(kind="immediate", promised_halves=0), DEPTS))
    assert "Accept" in lines and "Concluded on the spot" in lines
    assert "On the spot" in lines
    assert "Immediate item: concluded on the spot" in lines


def test_escalated_goes_to_the_superior_department() -> None:
    lines = texts(flowchart_svg(content(kind="escalated"), DEPTS))
    assert "Preliminary review" in lines and "Superior department" in lines
    assert "superior department" in " ".join(lines)  # a long step name wraps


def test_joint_has_one_box_per_signing_department() -> None:
    signers = ["jsj", "gtj", "slj", "nyj"]
    svg = flowchart_svg(content(kind="joint", joint_departments=signers), DEPTS)
    lines = texts(svg)
    for code in signers:
        assert DEPTS[code] in lines, code
    assert lines.count("Sign-off") == 4
    assert "Joint sign-off (in parallel)" in lines
    # Side by side (two a row: 建设（环保）局 would not fit three across), not a column.
    assert sign_off_rows(svg) == [2, 2]
    short = flowchart_svg(
        content(kind="joint", joint_departments=["gtj", "slj", "nyj", "mzj"]), DEPTS
    )
    assert sign_off_rows(short) == [3, 1]


def sign_off_rows(svg: str) -> list[int]:
    """How many sign-off boxes sit on each line of the parallel group."""
    ys = [
        float(t.get("y", 0))
        for t in parse(svg).iter(f"{SVG}text")
        if "".join(t.itertext()) == "Sign-off"
    ]
    return [ys.count(y) for y in sorted(set(ys))]


def test_own_steps_are_drawn_in_order_with_their_limits() -> None:
    steps = [
        {"name": "窗口受理", "actor": "A岗", "halves": 0},
        {"name": "实地核查", "actor": "连队", "halves": 6},
        {"name": "公示", "actor": "团场民政办", "halves": 5},
        {"name": "审批", "actor": "民政局", "halves": 4},
    ]
    lines = texts(flowchart_svg(content(steps=steps), DEPTS))
    names = [t for t in lines if t in {s["name"] for s in steps}]
    assert names == ["窗口受理", "实地核查", "公示", "审批"]
    assert "Limit: 3 working days" in lines and "Limit: 2.5 working days" in lines
    for s in steps:
        assert s["actor"] in lines


def test_joint_steps_expand_the_sign_off_step() -> None:
    steps = [
        {"name": "受理", "actor": "窗口", "halves": 0},
        {"name": "联合会签", "actor": "各部门", "halves": 4},
        {"name": "办结", "actor": "牵头部门", "halves": 2},
    ]
    doc = content(kind="joint", joint_departments=["jsj", "gtj"], steps=steps)
    lines = texts(flowchart_svg(doc, DEPTS))
    assert lines.count("联合会签") == 2 and "建设（环保）局" in lines and "国土资源局" in lines
    assert "各部门" not in lines  # replaced by one box per department
    # Without a sign-off step, the signing row goes after the first step.
    doc["steps"] = [steps[0], steps[2]]
    lines = texts(flowchart_svg(doc, DEPTS))
    assert "建设（环保）局" in lines and "Sign-off" in lines


def test_user_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    steps = [{"name": evil, "actor": 'a"b&c', "halves": 2}]
    doc = content(
        name=f"{evil}事项",
        kind="joint",
        department="evil",
        joint_departments=["evil", "jsj"],
        steps=steps,
    )
    svg = flowchart_svg(doc, DEPTS)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    lines = texts(svg)
    assert any(evil in t for t in lines)  # shown as text, intact after parsing
    root = parse(svg)
    assert [e.tag for e in root.iter() if "script" in e.tag.lower()] == []
    assert f"{evil}事项" in root.get("aria-label", "")
    # Characters XML forbids are dropped rather than breaking the document.
    texts(flowchart_svg(content(name="控制\x00字符\x1b事项"), {"mzj": "民\x08政局"}))
    markup = flowchart_html(doc, DEPTS)
    assert str(markup) == svg and "<script" not in str(markup)


def test_long_text_wraps_within_the_box() -> None:
    lines = wrap("一二三四五六七八九十" * 6, 100, 12, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert wrap("short", 100, 12) == ["short"]
    long_name = "关于农村土地承包经营权流转合同备案及变更登记的申请审核（含公示）"
    svg = flowchart_svg(content(steps=[{"name": long_name, "actor": "农业局", "halves": 2}]), DEPTS)
    assert len(texts(svg)) > 3


def test_rows_for_every_kind_are_not_empty() -> None:
    for kind in ("immediate", "promised", "joint", "escalated"):
        doc = content(kind=kind, joint_departments=["jsj"] if kind == "joint" else [])
        assert len(rows_of(doc, DEPTS)) >= 2


def test_item_page_embeds_the_flowchart_and_prints(client) -> None:  # type: ignore[no-untyped-def]
    from tests.catalogue.test_editor import create, login

    token = login(client, "d4-liuhong")
    code = create(client, token, kind="joint", joint_departments=["jsj", "gtj"])
    page = client.get(f"/t/d4/catalogue/{code}")
    assert page.status_code == 200
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>") + 6]
    lines = texts(svg)
    assert "建设（环保）局" in lines and "国土资源局" in lines
    assert "style=" not in page.text
    css = client.get("/static/css/app.css").text
    assert "@media print" in css and "size: A4" in css
