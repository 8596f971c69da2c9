"""The reviewers' grid: reporting and on-time rates per month, per centre and overall, the
``under`` filter, the reports waiting for the reviewer, htmx, and who may open it.

Months 2027-10 and 2027-11 belong to these tests (no other test files reports for them):

============  ===========================  ===========================
centre        2027-10                      2027-11
============  ===========================  ===========================
xa            on time, approved            on time, returned
xb            late (submitted)             on time (submitted)
zr            late (submitted)             —
zc            draft                        —
============  ===========================  ===========================
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from app.reports import filing, periods, review
from app.tenancy import queries as tenancy
from tests.reports.helpers import filled, open_period, run, scope_of, seed_form

OCT, NOV = 202710, 202711
MANAGERS = {"xa": "xa-manager", "xb": "xb-manager", "zr": "zr-manager", "zc": "zc-manager"}


async def _submit(slug: str, month: int, *, late: bool = False, draft: bool = False) -> int:
    period = await open_period(month)
    scope = await scope_of(MANAGERS[slug], slug)
    report = await filing.load(scope, period["id"])
    values = filled(report)
    comments = {r.key: "说明" for r in report.definition.rules if r.level == "warn"}
    if draft:
        await filing.save(scope, report, values, corrections={}, comments={}, lock_version=0)
    else:
        at = periods.end_of(period["due_on"]) + timedelta(hours=30) if late else None
        await filing.submit(
            scope, report, values, corrections={}, comments=comments, lock_version=0, now=at
        )
    report = await filing.load(scope, period["id"])
    assert report.submission is not None
    return int(report.submission["id"])


async def _prepare() -> dict[str, Any]:
    tree = await tenancy.tree()
    division = await scope_of("d4-liuhong", "d4")
    approved = await _submit("xa", OCT)
    await review.decide(None, tree, division, approved, "approve", "", actor_name="刘红")
    await _submit("xb", OCT, late=True)
    await _submit("zr", OCT, late=True)
    await _submit("zc", OCT, draft=True)
    returned = await _submit("xa", NOV)
    await review.decide(None, tree, division, returned, "return", "请核对办结数")
    await _submit("xb", NOV)
    form = await seed_form()
    filers = periods.filers(tree, tree.by_slug["d4"].id, ["regiment", "community"])
    periods_of = {m: (await open_period(m))["id"] for m in (OCT, NOV)}
    return {"form": form, "expected": len(filers), "periods": periods_of}


@pytest.fixture(scope="module")
def known() -> dict[str, Any]:
    return dict(run(_prepare()))


def _row(html: str, centre: str) -> str:
    found = re.search(rf'<tr data-centre="{centre}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {centre}"
    return found.group(1)


def _state(row: str, month: int) -> str:
    found = re.search(rf'data-month="{month}"><a class="chip chip-([a-z_]+)', row)
    assert found, month
    return found.group(1)


def _rate(row: str, attribute: str) -> tuple[str, str]:
    found = re.search(
        rf'{attribute}"><span class="pct">([^<]*)</span> <span class="frac">([^<]*)</span>', row
    )
    assert found, attribute
    return found.group(1), found.group(2)


def _foot(html: str, which: str) -> str:
    found = re.search(rf'<tr class="[^"]*" data-row="{which}">(.*?)</tr>', html, re.S)
    assert found, which
    return found.group(1)


def _pct(n: int, d: int) -> str:
    return f"{(Decimal(100 * n) / d).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def test_rates_per_month_per_centre_and_overall(client, as_user, known) -> None:  # type: ignore[no-untyped-def]
    as_user("d4-liuhong")
    url = f"/t/d4/reports/grid?form={known['form']['id']}&from={OCT}&to={NOV}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.text
    xa, xb, zr, zc = (_row(html, s) for s in ("xa", "xb", "zr", "zc"))
    assert (_state(xa, OCT), _state(xa, NOV)) == ("approved", "returned")
    assert (_state(xb, OCT), _state(xb, NOV)) == ("late", "on_time")
    assert (_state(zr, OCT), _state(zr, NOV)) == ("late", "none")
    assert (_state(zc, OCT), _state(zc, NOV)) == ("draft", "none")
    # Per centre, over the two months: filed (not returned) ÷ 2, and on time ÷ 2.
    assert _rate(xa, 'data-rate="filed') == ("50.0%", "1/2")
    assert _rate(xa, 'data-rate="on_time') == ("50.0%", "1/2")
    assert _rate(xb, 'data-rate="filed') == ("100.0%", "2/2")
    assert _rate(xb, 'data-rate="on_time') == ("50.0%", "1/2")
    assert _rate(zr, 'data-rate="filed') == ("50.0%", "1/2")
    assert _rate(zr, 'data-rate="on_time') == ("0.0%", "0/2")
    assert _rate(zc, 'data-rate="filed') == ("0.0%", "0/2")
    # Per month, over every centre of d4 that files the form (nobody else reports these months).
    n = known["expected"]
    filed, on_time = _foot(html, "filed"), _foot(html, "on_time")
    assert _rate(filed, f'data-month="{OCT}') == (_pct(3, n), f"3/{n}")  # xa, xb, zr
    assert _rate(on_time, f'data-month="{OCT}') == (_pct(1, n), f"1/{n}")  # xa
    assert _rate(filed, f'data-month="{NOV}') == (_pct(1, n), f"1/{n}")  # xb (xa returned)
    assert _rate(on_time, f'data-month="{NOV}') == (_pct(1, n), f"1/{n}")
    assert _rate(filed, 'data-month="all') == (_pct(4, 2 * n), f"4/{2 * n}")
    assert _rate(on_time, 'data-month="all') == (_pct(2, 2 * n), f"2/{2 * n}")
    # Each cell links to that centre's report of that month; the legend explains the sums.
    assert f'/t/d4/reports/{known["periods"][OCT]}/c/xa"' in xa
    assert "÷" in html


def test_under_a_regiment_shows_it_and_its_communities(client, as_user, known) -> None:  # type: ignore[no-untyped-def]
    as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/grid?form={known['form']['id']}&from={OCT}&to={NOV}&under=zr")
    html = page.text
    assert re.findall(r'<tr data-centre="([^"]+)">', html) == ["zr", "zc"]
    filed, on_time = _foot(html, "filed"), _foot(html, "on_time")
    assert _rate(filed, f'data-month="{OCT}') == ("50.0%", "1/2")
    assert _rate(on_time, f'data-month="{OCT}') == ("0.0%", "0/2")
    assert _rate(filed, f'data-month="{NOV}') == ("0.0%", "0/2")
    assert _rate(filed, 'data-month="all') == ("25.0%", "1/4")
    assert _rate(on_time, 'data-month="all') == ("0.0%", "0/4")
    # The regiment's own reviewer sees the same subtree by default, and nothing else.
    as_user("zr-supervisor")
    mine = client.get(f"/t/zr/reports/grid?form={known['form']['id']}&from={OCT}&to={NOV}")
    assert mine.status_code == 200
    assert re.findall(r'<tr data-centre="([^"]+)">', mine.text) == ["zr", "zc"]
    outside = client.get(f"/t/zr/reports/grid?form={known['form']['id']}&under=xa")
    assert 'data-centre="xa"' not in outside.text  # not in zr's subtree: the default instead


def test_waiting_list_htmx_and_bad_filters(client, as_user, known) -> None:  # type: ignore[no-untyped-def]
    as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/grid?form={known['form']['id']}&from={OCT}&to={NOV}")
    waiting = re.search(r'<section class="waiting".*?</section>', page.text, re.S)
    assert waiting is not None
    for slug, month in (("xb", OCT), ("zr", OCT), ("xb", NOV)):
        assert f'/t/d4/reports/{known["periods"][month]}/c/{slug}"' in waiting.group(0)
    for slug, month in (("xa", OCT), ("xa", NOV), ("zc", OCT)):  # approved, returned, draft
        assert f'/t/d4/reports/{known["periods"][month]}/c/{slug}"' not in waiting.group(0)
    fragment = client.get(
        f"/t/d4/reports/grid?form={known['form']['id']}&from={OCT}&to={NOV}",
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert 'id="report-grid"' in fragment.text and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    junk = client.get("/t/d4/reports/grid?form=abc&from=2027-13&to=x&under=nowhere")
    assert junk.status_code == 200 and 'id="report-grid"' in junk.text
    reversed_range = client.get(f"/t/d4/reports/grid?from={NOV}&to={OCT}")
    assert _state(_row(reversed_range.text, "xb"), OCT) == "late"


def test_only_reviewers_open_the_grid(client, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user("xa-manager")
    assert client.get("/t/xa/reports/grid").status_code == 403
    assert client.get("/t/xb/reports/grid").status_code == 404
    as_user("r63-wanglin")
    assert client.get("/t/r63/reports/grid").status_code == 403
