"""The division's roll-up pages: totals, per-centre values, the trend per field and the
drill-down to one submission (months 2028-02 .. 2028-06 belong to these tests)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from app.reports import filing, review, rollup
from app.reports.definition import Definition
from app.tenancy import queries as tenancy
from tests.reports.helpers import filled, open_period, run, scope_of, seed_form

MONTHS = [202802, 202803, 202804, 202805, 202806]
FILERS = {
    "xa": "xa-manager",
    "xb": "xb-manager",
    "r63": "r63-zhoujianguo",
    "r68": "r68-liguohua",
    "c-huacheng": "c-huacheng-wujing",
    "zr": "zr-manager",
    "zc": "zc-manager",
}
NOT_FILED = {("xb", 202806)}
RETURNED = {("r68", 202804)}
RANGE = "from=202802&to=202806"


@dataclass
class World:
    form_id: int
    periods: dict[int, int]  # month → period id
    values: dict[tuple[str, int], dict[str, Decimal]]  # what each filed report holds
    definition: Definition


def _numbers(k: int, j: int) -> dict[str, Decimal]:
    return {
        "registered": Decimal(10 * (k + 1) + j),
        "good_rate": Decimal(80 + k) + Decimal("0.5") * j,
        "staff": Decimal(k + 1),
    }


async def _seed() -> World:
    form = await seed_form()
    periods = {m: (await open_period(m, form))["id"] for m in MONTHS}
    tree = await tenancy.tree()
    division = await scope_of("d4-liuhong", "d4")
    values: dict[tuple[str, int], dict[str, Decimal]] = {}
    definition = None
    for k, (slug, user) in enumerate(FILERS.items()):
        scope = await scope_of(user, slug)
        for j, month in enumerate(MONTHS):
            if (slug, month) in NOT_FILED:
                continue
            report = await filing.load(scope, periods[month])
            definition = report.definition
            numbers = _numbers(k, j)
            typed = filled(report, **{key: str(v) for key, v in numbers.items()})
            await filing.submit(
                scope,
                report,
                typed,
                corrections={"registered": "按台账", "good_rate": "按评价器"},
                comments={"registered_change": "测试数据", "open_days_range": "测试数据"},
                lock_version=report.lock_version,
            )
            if (slug, month) in RETURNED:
                report = await filing.load(scope, periods[month])
                assert report.submission is not None
                await review.decide(None, tree, division, report.submission["id"], "return", "有误")
            else:
                values[(slug, month)] = numbers
    assert definition is not None
    return World(form["id"], periods, values, definition)


@pytest.fixture(scope="module")
def world() -> World:
    return run(_seed())


def _sum(world: World, key: str, slugs: set[str], months: list[int] = MONTHS) -> Decimal:
    return sum(
        (v[key] for (s, m), v in world.values.items() if s in slugs and m in months),
        Decimal(0),
    )


def _mean(world: World, key: str, slugs: set[str]) -> Decimal:
    found = [v[key] for (s, _m), v in world.values.items() if s in slugs]
    return (sum(found, Decimal(0)) / len(found)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _text(html: str, ident: str) -> str:
    found = re.search(rf'id="{ident}">([^<]*)<', html)
    assert found, ident
    return found.group(1).strip()


def test_totals_equal_an_independent_sum_and_mean(world: World) -> None:
    async def go() -> None:
        tree = await tenancy.tree()
        division = await scope_of("d4-liuhong", "d4")
        ids = [tree.by_slug[s].id for s in FILERS]
        totals = {
            t.field.key: t
            for t in await rollup.totals(
                division, world.definition, world.form_id, ids, MONTHS[0], MONTHS[-1]
            )
        }
        everyone = set(FILERS)
        assert totals["registered"].total == _sum(world, "registered", everyone)
        assert totals["registered"].reports == len(world.values) == 33
        assert totals["good_rate"].total == _mean(world, "good_rate", everyone)
        assert totals["staff"].total == _sum(world, "staff", everyone)
        r68 = tree.by_slug["r68"].id
        assert totals["registered"].by_centre[r68] == _sum(world, "registered", {"r68"})

    run(go())


def test_rollup_page_shows_totals_and_per_centre_values(
    world: World, client: Any, as_user: Any
) -> None:
    as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/rollup?form={world.form_id}&{RANGE}")
    assert page.status_code == 200
    html = page.text
    everyone = set(FILERS)
    assert _text(html, "total-registered") == str(_sum(world, "registered", everyone))
    assert _text(html, "reports-registered") == "33"
    assert _text(html, "total-good_rate") == f"{_mean(world, 'good_rate', everyone)}%"
    assert _text(html, "total-staff") == str(_sum(world, "staff", everyone))
    # case records: none in 2028, so the reports differ from them (highlighted)
    assert _text(html, "cases-registered") == "0"
    assert _text(html, "diff-registered") == "+" + str(_sum(world, "registered", everyone))
    assert f'href="/t/d4/reports/rollup/registered?form={world.form_id}' in html
    # the centres × fields table, with one row per centre and a totals row
    cell = re.search(r'data-centre="r68" data-field="registered">([^<]*)<', html)
    assert cell and cell.group(1) == str(_sum(world, "registered", {"r68"}))
    foot = re.search(r'<tfoot>.*?data-field="registered">([^<]*)<', html, re.S)
    assert foot and foot.group(1) == str(_sum(world, "registered", everyone))
    assert "只统计" in html or "Only reports submitted" in html
    assert page.headers["Vary"].startswith("HX-Request")


def test_returned_reports_are_left_out(world: World, client: Any, as_user: Any) -> None:
    as_user("d4-liuhong")
    html = client.get(f"/t/d4/reports/rollup/registered?form={world.form_id}&{RANGE}").text
    row = re.search(r'<tr data-month="202804">(.*?)</tr>', html, re.S)
    assert row is not None
    expected = _sum(world, "registered", set(FILERS), [202804])
    assert re.search(r"data-value>([^<]*)<", row.group(1)).group(1) == str(expected)  # type: ignore[union-attr]
    assert re.search(r"data-reports>([^<]*)<", row.group(1)).group(1) == "6"  # type: ignore[union-attr]


def test_under_limits_to_the_subtree(world: World, client: Any, as_user: Any) -> None:
    as_user("d4-liuhong")
    html = client.get(f"/t/d4/reports/rollup?form={world.form_id}&{RANGE}&under=zr").text
    assert _text(html, "total-registered") == str(_sum(world, "registered", {"zr", "zc"}))
    assert _text(html, "reports-registered") == "10"
    assert set(re.findall(r'data-centre="([^"]+)"', html)) == {"zr", "zc"}
    # the regiment's own supervisor sees the same subtree by default
    as_user("zr-supervisor")
    html = client.get(f"/t/zr/reports/rollup?{RANGE}").text
    assert _text(html, "total-registered") == str(_sum(world, "registered", {"zr", "zc"}))


def test_field_page_trend_one_point_per_month(world: World, client: Any, as_user: Any) -> None:
    as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/rollup/registered?form={world.form_id}&{RANGE}")
    assert page.status_code == 200
    html = page.text
    everyone = set(FILERS)
    table = dict(re.findall(r'<tr data-month="(\d+)">.*?data-value>([^<]*)<', html, re.S))
    assert list(table) == [str(m) for m in MONTHS]
    for month in MONTHS:
        assert table[str(month)] == str(_sum(world, "registered", everyone, [month]))
    drawn = re.search(r"<svg .*?</svg>", html, re.S)
    assert drawn is not None
    svg = ET.fromstring(drawn.group(0))  # noqa: S314 - the page's own chart
    ns = "{http://www.w3.org/2000/svg}"
    points = [g for g in svg.iter(f"{ns}g") if g.get("class") == "chart-pt"]
    assert len(points) == len(MONTHS)
    titles = [g.find(f"{ns}title").text for g in points]  # type: ignore[union-attr]
    assert titles[0].endswith(": " + table["202802"])  # type: ignore[union-attr]
    assert svg.get("viewBox") and not svg.get("width")
    # a percentage: the mean with one decimal and %
    html = client.get(f"/t/d4/reports/rollup/good_rate?form={world.form_id}&{RANGE}").text
    row = re.search(r'<tr data-month="202802">.*?data-value>([^<]*)<', html, re.S)
    month_values = [v["good_rate"] for (_s, m), v in world.values.items() if m == 202802]
    mean = (sum(month_values, Decimal(0)) / len(month_values)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    assert row and row.group(1) == f"{mean}%"


def test_drill_down_links_to_each_submission(world: World, client: Any, as_user: Any) -> None:
    as_user("d4-liuhong")
    base = f"/t/d4/reports/rollup/registered?form={world.form_id}&{RANGE}"
    html = client.get(base).text
    assert f'href="{base.replace("&", "&amp;")}&amp;centre=zr#drill"' in html
    html = client.get(base + "&centre=zr").text
    links = dict(re.findall(r'<li data-month="(\d+)">\s*<a href="([^"]+)"', html))
    assert links == {str(m): f"/t/d4/reports/{world.periods[m]}/c/zr" for m in MONTHS}
    k = list(FILERS).index("zr")
    row = re.search(r'<li data-month="202803">.*?class="num">([^<]*)<', html, re.S)
    assert row and row.group(1) == str(_numbers(k, 1)["registered"])
    # the returned month of r68 shows nothing counted, and still links to the submission
    html = client.get(base + "&centre=r68").text
    row = re.search(r'<li data-month="202804">.*?class="num">([^<]*)<', html, re.S)
    assert row and row.group(1) == "—"
    assert client.get(base + "&centre=nowhere").status_code == 404


def test_htmx_gets_the_main_block(world: World, client: Any, as_user: Any) -> None:
    as_user("d4-liuhong")
    for url in ("/t/d4/reports/rollup", "/t/d4/reports/rollup/registered"):
        page = client.get(f"{url}?{RANGE}", headers={"HX-Request": "true"})
        assert page.status_code == 200
        assert page.text.lstrip().startswith('<div id="rollup-main"')
        assert "<html" not in page.text
        assert "HX-Request" in page.headers["Vary"]


def test_access_and_bad_parameters(world: World, client: Any, as_user: Any) -> None:
    as_user("r63-zhoujianguo")  # a manager: no report.review
    assert client.get("/t/r63/reports/rollup").status_code == 403
    assert client.get("/t/r63/reports/rollup/registered").status_code == 403
    as_user("d4-liuhong")
    assert client.get("/t/d4/reports/rollup/nope").status_code == 404
    assert client.get("/t/d4/reports/rollup/problems").status_code == 404  # text: not totalled
    assert client.get("/t/d4/reports/rollup?form=999999").status_code == 404
    assert client.get("/t/d4/reports/rollup?under=nowhere").status_code == 404
    page = client.get("/t/d4/reports/rollup?from=junk&to=2028-13")  # ignored: the defaults
    assert page.status_code == 200
    page = client.get(f"/t/d4/reports/rollup?from=2028-06&to=2028-02&form={world.form_id}")
    assert _text(page.text, "reports-registered") == "33"  # a reversed range is swapped
    as_user("zr-supervisor")  # a regiment sees only its own subtree
    assert client.get("/t/zr/reports/rollup?under=r63").status_code == 404
    assert client.get("/t/zr/reports/rollup/registered?under=r63").status_code == 404
    assert client.get("/t/zr/reports/rollup/registered?centre=r63").status_code == 404
    assert client.get("/t/zr/reports/rollup?under=zc").status_code == 200


def test_without_a_form_the_page_says_so(
    world: World, client: Any, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.reports import rollup_routes

    async def none(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    monkeypatch.setattr(rollup_routes.form_queries, "forms", none)
    as_user("d4-liuhong")
    page = client.get("/t/d4/reports/rollup")
    assert page.status_code == 200
    assert 'class="empty"' in page.text
    assert client.get("/t/d4/reports/rollup/registered").status_code == 404
