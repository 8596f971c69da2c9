"""Checklist definitions: what is accepted, what is refused (with where), the full score."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from app.inspections import definition as d
from app.web.i18n import gettext as _


def item(key: str, score: Any = "10", **more: Any) -> dict[str, Any]:
    return {"key": key, "text": f"检查项 {key}", "max_score": score, **more}


def good() -> dict[str, Any]:
    return {
        "sections": [
            {
                "key": "hardware",
                "title": "硬件设施",
                "items": [
                    item("h1", "10", guidance="公开上墙", photo_required=True),
                    item("h2", 2.5),
                ],
            },
            {"key": "daily", "title": "日常管理", "items": [item("d1", 7.5), item("d2", 80)]},
        ]
    }


def problems(data: Any) -> list[str]:
    with pytest.raises(d.DefinitionError) as caught:
        d.validate(data)
    return caught.value.problems


def test_a_valid_definition_and_its_full_score() -> None:
    defn = d.validate(good())
    assert d.max_score(defn) == Decimal("100")
    assert d.max_score(good()) == Decimal("100")
    dumped = d.dump(defn)
    assert dumped["sections"][0]["items"][0] == {
        "key": "h1",
        "text": "检查项 h1",
        "guidance": "公开上墙",
        "max_score": "10",
        "photo_required": True,
    }
    assert dumped["sections"][0]["items"][1]["max_score"] == "2.5"
    assert dumped["sections"][0]["items"][1]["photo_required"] is False
    assert d.load(dumped) == defn  # stored and loaded back
    assert defn.item("d2") is not None and defn.item("d2").max_score == Decimal(80)  # type: ignore[union-attr]


def test_normalised_scores_compare_equal() -> None:
    a, b = good(), good()
    b["sections"][0]["items"][0]["max_score"] = "10.00"
    assert d.dump(d.validate(a)) == d.dump(d.validate(b))


@pytest.mark.parametrize("score", ["0", "-1", "100.01", "abc", "", "NaN", "2.555", True])
def test_a_maximum_score_above_0_up_to_100(score: Any) -> None:
    data = good()
    data["sections"][1]["items"][0]["max_score"] = score
    found = problems(data)
    assert len(found) == 1
    assert "d1" in found[0] and str(_("Maximum score")) in found[0]


def test_100_is_allowed() -> None:
    data = good()
    data["sections"][1]["items"][0]["max_score"] = "100"
    assert d.validate(data)


def test_keys_are_unique_across_the_checklist() -> None:
    data = good()
    data["sections"][1]["items"][0]["key"] = "h2"
    assert any("h2" in p for p in problems(data))
    data = good()
    data["sections"][1]["key"] = "hardware"
    assert any("hardware" in p for p in problems(data))
    data = good()
    data["sections"][1]["items"][1]["key"] = "daily"  # an item key equal to a section key
    assert any("daily" in p for p in problems(data))


@pytest.mark.parametrize("key", ["H1", "1h", "h-1", "", "a" * 33, "检查"])
def test_bad_keys(key: str) -> None:
    data = good()
    data["sections"][0]["items"][0]["key"] = key
    found = problems(data)
    assert any(str(_("Key")) in p for p in found)


def test_section_and_item_counts() -> None:
    assert problems({"sections": []})
    many = {
        "sections": [{"key": f"s{i}", "title": "x", "items": [item(f"i{i}")]} for i in range(21)]
    }
    assert any("20" in p for p in problems(many))
    ok = copy.deepcopy(many)
    ok["sections"] = ok["sections"][:20]
    assert d.validate(ok)
    crowded: dict[str, Any] = {
        "sections": [{"key": "s", "title": "x", "items": [item(f"i{n}", 1) for n in range(61)]}]
    }
    assert any("60" in p for p in problems(crowded))
    crowded["sections"][0]["items"].pop()
    assert d.max_score(d.validate(crowded)) == Decimal(60)
    assert problems({"sections": [{"key": "s", "title": "x", "items": []}]})


def test_texts_required_and_bounded_and_unknown_entries_refused() -> None:
    data = good()
    data["sections"][0]["items"][0]["text"] = "  "
    data["sections"][0]["title"] = ""
    data["sections"][1]["items"][1]["guidance"] = "长" * 1001
    data["sections"][1]["items"][0]["weight"] = 3
    found = problems(data)
    assert len(found) == 4, found
    assert any("h1" in p for p in found)
    assert any("d2" in p for p in found)
    assert any("d1" in p for p in found)
    assert problems({"sections": "硬件设施"})
    assert problems(None)
    assert problems(
        {"sections": [{"key": "s", "title": "x", "items": [item("a", photo_required="maybe")]}]}
    )
