"""Assessment arithmetic (Decimal, 2 places, half up), renormalisation of missing inputs,
the department-score contribution, and formula validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.staff import scheme as schemes


def window_components() -> list[dict[str, str]]:
    return schemes.components_for({"components": schemes.RECOMMENDED}, "window")


def test_recommended_rules_are_valid_and_total_100_at_each_level() -> None:
    clean = schemes.validate(schemes.RECOMMENDED)
    assert [c["key"] for c in clean] == [c["key"] for c in schemes.RECOMMENDED]
    for level in ("window", "centre"):
        parts = schemes.components_for({"components": clean}, level)
        assert sum(Decimal(c["weight"]) for c in parts) == Decimal(100)


def test_window_score_arithmetic_exactly() -> None:
    values = {
        "on_time_rate": Decimal("87.5"),  # 30 × 0.875 = 26.25
        "good_rate": Decimal("93.3"),  # 25 × 0.933 = 23.325 → 23.33 (half up)
        "platform_usage": Decimal("66.7"),  # 20 × 0.667 = 13.34
        "attendance_rate": Decimal("95.0"),  # 15 × 0.95 = 14.25
        "discipline_notes": Decimal(1),  # max(0, 100 − 20) = 80 → 10 × 0.8 = 8.00
    }
    result = schemes.score(window_components(), "window", values)
    points = {p.key: p.points for p in result.parts}
    assert points == {
        "on_time": Decimal("26.25"),
        "satisfaction": Decimal("23.33"),
        "platform_usage": Decimal("13.34"),
        "attendance": Decimal("14.25"),
        "discipline": Decimal("8.00"),
    }
    assert result.total == Decimal("85.17")
    assert result.max_points == Decimal(100)
    assert not result.renormalised
    # The department-score contribution: 85.17 ÷ 100 × 3 = 2.5551 → 2.56.
    assert result.contribution == Decimal("2.56")


def test_values_are_clamped_to_0_100_per_cent() -> None:
    values = {
        "on_time_rate": Decimal(100),
        "good_rate": Decimal(100),
        "platform_usage": Decimal(100),
        "attendance_rate": Decimal(100),
        "discipline_notes": Decimal(9),  # max(0, 100 − 180) = 0
    }
    result = schemes.score(window_components(), "window", values)
    assert result.total == Decimal("90.00")
    assert result.contribution == Decimal("2.70")
    over = [{"key": "x", "label": "x", "applies": "window", "expression": "late * 500",
             "weight": "10"}]  # fmt: skip
    assert schemes.score(over, "window", {"late": Decimal(1)}).total == Decimal("10.00")


def test_missing_input_is_left_out_and_the_rest_renormalised() -> None:
    values = {
        "on_time_rate": None,  # no concluded case: excluded
        "good_rate": Decimal(80),  # 20.00 of 25
        "platform_usage": Decimal(50),  # 10.00 of 20
        "attendance_rate": Decimal(100),  # 15.00 of 15
        "discipline_notes": Decimal(0),  # 10.00 of 10
    }
    result = schemes.score(window_components(), "window", values)
    on_time = next(p for p in result.parts if p.key == "on_time")
    assert on_time.points is None and on_time.missing == ("on_time_rate",)
    assert result.counted_weight == Decimal(70)
    # 55 earned of 70 counted → × 100/70 = 78.5714… → 78.57
    assert result.total == Decimal("78.57")
    assert result.renormalised
    assert result.contribution == Decimal("2.36")  # 2.3571 → 2.36
    nothing = schemes.score(window_components(), "window", dict.fromkeys(values))
    assert nothing.total is None and nothing.contribution is None


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"expression": "on_time_rate * "}, "expression"),  # syntax
        ({"expression": "speed * 2"}, "expression"),  # unknown variable
        ({"expression": "inspection_percent", "applies": "window"}, "expression"),  # centre only
        ({"expression": "__import__('os')"}, "expression"),
        ({"weight": "0"}, "weight"),
        ({"weight": "abc"}, "weight"),
        ({"weight": "100.001"}, "weight"),
        ({"key": "On Time"}, "key"),
        ({"label": ""}, "label"),
        ({"applies": "department"}, "applies"),
    ],
)
def test_validation_names_the_row_and_field(row: dict[str, str], field: str) -> None:
    good = {"key": "on_time", "label": "按时办结率", "applies": "both",
            "expression": "on_time_rate", "weight": "30"}  # fmt: skip
    with pytest.raises(schemes.SchemeError) as caught:
        schemes.validate([dict(schemes.RECOMMENDED[1]), {**good, **row}])
    assert (1, field) in caught.value.problems
    assert caught.value.problems[(1, field)]


def test_validation_refuses_duplicates_and_an_empty_scheme_and_skips_blank_rows() -> None:
    blank = dict.fromkeys(("key", "label", "applies", "expression", "weight"), "")
    with pytest.raises(schemes.SchemeError) as caught:
        schemes.validate([schemes.RECOMMENDED[0], dict(schemes.RECOMMENDED[0])])
    assert (1, "key") in caught.value.problems
    with pytest.raises(schemes.SchemeError) as caught:
        schemes.validate([blank, blank])
    assert (None, "components") in caught.value.problems
    assert len(schemes.validate([schemes.RECOMMENDED[0], blank])) == 1


def test_version_for_a_month() -> None:
    versions = [{"number": 1, "from_month": 202603}, {"number": 2, "from_month": 202606}]
    numbers = {
        m: (schemes.version_for(versions, m) or {}).get("number")
        for m in (202601, 202605, 202606, 202612)
    }
    assert numbers == {202601: 1, 202605: 1, 202606: 2, 202612: 2}  # before any: the first
    assert schemes.version_for([], 202606) is None
