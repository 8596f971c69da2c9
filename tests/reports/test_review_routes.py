"""The reviewer's page of one centre's report: values with sources and notes, approve and
return (a reason is required), return → fix → resubmit → approve, the two levels (the
regiment first, then the division), lock exceptions, and who may reach the page.

Months 2027-12 and 2028-01 belong to these tests.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from markupsafe import escape

from app.reports import filing, periods, review_view
from app.reports.queries import periods as period_queries
from app.reports.queries import submissions as submission_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext
from tests.reports.helpers import filled, open_period, run, scope_of, seed_form

DEC, JAN = 202712, 202801
MANAGERS = {
    "xa": "xa-manager",
    "xb": "xb-manager",
    "zc": "zc-manager",
    "r63": "r63-zhoujianguo",
    "r68": "r68-liguohua",
}


async def _submit(
    slug: str,
    month: int,
    *,
    corrections: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    **overrides: str,
) -> tuple[int, int]:
    """Submit (or resubmit) the centre's report; (period id, submission id)."""
    period = await open_period(month)
    scope = await scope_of(MANAGERS[slug], slug)
    report = await filing.load(scope, period["id"])
    values = filled(report, **overrides)
    notes = {r.key: "说明" for r in report.definition.rules if r.level == "warn"}
    await filing.submit(
        scope,
        report,
        values,
        corrections=corrections or {},
        comments={**notes, **(comments or {})},
        lock_version=report.lock_version,
        actor_name=MANAGERS[slug],
    )
    report = await filing.load(scope, period["id"])
    assert report.submission is not None
    return int(period["id"]), int(report.submission["id"])


async def _draft(slug: str, month: int, **overrides: str) -> int:
    period = await open_period(month)
    scope = await scope_of(MANAGERS[slug], slug)
    report = await filing.load(scope, period["id"])
    await filing.save(
        scope, report, filled(report, **overrides), corrections={}, comments={}, lock_version=0
    )
    return int(period["id"])


async def _submission(submission_id: int) -> dict[str, Any]:
    system = system_scope(await tenancy.tree(), reason="tests: review")
    row = await submission_queries.submission(system, submission_id)
    assert row is not None
    return row


async def _events(submission_id: int) -> list[dict[str, Any]]:
    system = system_scope(await tenancy.tree(), reason="tests: review")
    return await submission_queries.events(system, submission_id)


async def _exceptions(period_id: int, slug: str) -> list[dict[str, Any]]:
    tree = await tenancy.tree()
    system = system_scope(tree, reason="tests: review")
    return await period_queries.exceptions(system, period_id, tree.by_slug[slug].id)


def _grid(client: Any, slug: str, **params: str) -> str:
    """A grid page of the seed form (other tests may add forms of their own)."""
    form = run(seed_form())
    query = "&".join(f"{k}={v}" for k, v in {"form": str(form["id"]), **params}.items())
    return str(client.get(f"/t/{slug}/reports/grid?{query}").text)


def _waiting(html: str) -> str:
    found = re.search(r'<section class="waiting".*?</section>', html, re.S)
    assert found is not None
    return found.group(0)


def _post(client: Any, url: str, token: str, **data: str) -> Any:
    return client.post(url, data={"csrf_token": token, **data})


def _lock_version(html: str) -> str:
    found = re.search(r'<input[^>]*name="lock_version"[^>]*value="(\d+)"', html)
    assert found, "no lock_version in the review form"
    return found.group(1)


def test_page_shows_values_sources_notes_comments_and_timeliness(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period_id, sub_id = run(
        _submit(
            "xb",
            DEC,
            registered="7",
            corrections={"registered": "含窗口代收件，按台账更正"},
            comments={"open_days_range": "冬季作息调整"},
            open_days="12",
        )
    )
    row = run(_submission(sub_id))
    source = row["sources"]["registered"]["value"]
    assert source != "7"
    as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/{period_id}/c/xb")
    assert page.status_code == 200
    html = page.text
    assert '<span class="value">7 件</span>' in html
    assert str(escape("含窗口代收件，按台账更正")) in html
    assert str(escape(gettext("Case records: %(value)s", value=source))) in html
    assert 'class="value-row changed"' in html
    assert "冬季作息调整" in html  # the centre's comment on the warning it could not avoid
    assert "rule-failed" in html  # open_days 12 is outside 15..31
    assert str(escape(gettext("Filed on time"))) in html
    assert period_id and f"/t/d4/reports/{period_id}/c/xb" in html  # the form posts back here
    assert 'value="approve"' in html and 'value="return"' in html


def test_a_draft_shows_its_state_not_its_values(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period_id = run(_draft("r68", DEC, problems="草稿里的半成品文字"))
    token = as_user("d4-liuhong")
    page = client.get(f"/t/d4/reports/{period_id}/c/r68")
    assert page.status_code == 200
    assert "草稿里的半成品文字" not in page.text
    assert "status-draft" in page.text
    assert 'value="approve"' not in page.text and 'value="return"' not in page.text
    nothing = client.get(f"/t/d4/reports/{period_id}/c/c-huacheng")
    assert nothing.status_code == 200 and "status-none" in nothing.text
    refused = _post(client, f"/t/d4/reports/{period_id}/c/r68", token, decision="approve")
    assert refused.status_code == 422


def test_return_needs_a_reason_then_fix_resubmit_and_approve(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period_id, sub_id = run(_submit("xa", DEC, agency="3"))
    url = f"/t/d4/reports/{period_id}/c/xa"
    token = as_user("d4-liuhong")
    version = _lock_version(client.get(url).text)
    before = len(run(_events(sub_id)))
    empty = _post(client, url, token, decision="return", reason="   ", lock_version=version)
    assert empty.status_code == 422
    assert 'class="field has-error"' in empty.text
    assert len(run(_events(sub_id))) == before  # nothing written
    assert run(_submission(sub_id))["status"] == "submitted"
    long = "太长" * 600
    kept = _post(client, url, token, decision="return", reason=long, lock_version=version)
    assert kept.status_code == 422 and long in kept.text  # what was typed is kept
    assert len(run(_events(sub_id))) == before
    stale = _post(client, url, token, decision="return", reason="x", lock_version="999")
    assert stale.status_code == 422 and run(_submission(sub_id))["status"] == "submitted"
    done = _post(
        client, url, token, decision="return", reason="代办件数请核实", lock_version=version
    )
    assert done.status_code == 303 and done.headers["location"].startswith(url)
    row = run(_submission(sub_id))
    assert row["status"] == "returned" and row["return_reason"] == "代办件数请核实"
    assert len(run(_events(sub_id))) == before + 1
    # The centre sees the reason, fixes the report and submits it again.
    as_user("xa-manager")
    own = client.get(f"/t/xa/reports/{period_id}")  # the centre's filing page
    assert own.status_code == 200 and "代办件数请核实" in own.text
    run(_submit("xa", DEC, agency="4"))
    token = as_user("d4-liuhong")
    page = client.get(url)
    assert page.status_code == 200
    history = re.search(r'<section class="history".*?</section>', page.text, re.S)
    assert history is not None
    assert "代办件数请核实" in history.group(0)
    assert "<del>3</del>" in history.group(0) and "<ins>4</ins>" in history.group(0)
    approved = _post(client, url, token, decision="approve", lock_version=_lock_version(page.text))
    assert approved.status_code == 303
    assert run(_submission(sub_id))["status"] == "approved"
    assert [e["action"] for e in run(_events(sub_id))] == [
        "approved",
        "submitted",
        "returned",
        "submitted",
    ]
    grid = _grid(client, "d4", under="xa", **{"from": str(DEC), "to": str(DEC)})
    assert 'class="chip chip-approved"' in grid


def test_two_levels_the_regiment_first_then_the_division(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period_id, sub_id = run(_submit("zc", DEC))
    token = as_user("d4-liuhong")
    division_url = f"/t/d4/reports/{period_id}/c/zc"
    page = client.get(division_url)
    assert page.status_code == 200
    assert 'value="approve"' not in page.text and 'value="return"' in page.text
    assert "丙团便民服务中心" in page.text  # waiting for the regiment's review
    early = _post(
        client, division_url, token, decision="approve", lock_version=_lock_version(page.text)
    )
    assert early.status_code == 422 and run(_submission(sub_id))["status"] == "submitted"
    assert f"/t/d4/reports/{period_id}/c/zc" not in _waiting(_grid(client, "d4"))
    token = as_user("zr-supervisor")
    regiment_url = f"/t/zr/reports/{period_id}/c/zc"
    page = client.get(regiment_url)
    assert page.status_code == 200 and 'value="approve"' in page.text
    assert f'{regiment_url}"' in _waiting(_grid(client, "zr"))
    endorsed = _post(
        client, regiment_url, token, decision="approve", lock_version=_lock_version(page.text)
    )
    assert endorsed.status_code == 303
    assert run(_submission(sub_id))["status"] == "endorsed"
    assert 'value="approve"' not in client.get(regiment_url).text
    token = as_user("d4-liuhong")
    grid = _grid(client, "d4", under="zr", **{"from": str(DEC), "to": str(DEC)})
    assert "chip chip-on_time endorsed" in grid
    page = client.get(division_url)
    assert 'value="approve"' in page.text
    final = _post(
        client, division_url, token, decision="approve", lock_version=_lock_version(page.text)
    )
    assert final.status_code == 303
    assert run(_submission(sub_id))["status"] == "approved"
    assert [e["action"] for e in run(_events(sub_id))] == ["approved", "endorsed", "submitted"]


def test_exception_for_a_locked_period(client, as_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    period = run(open_period(JAN))
    after_lock = periods.end_of(period["lock_on"]) + timedelta(days=4)  # local 2028-02-14
    monkeypatch.setattr(review_view, "now", lambda: after_lock)
    today = periods.local_today(after_lock)
    url = f"/t/d4/reports/{period['id']}/c/r68"
    token = as_user("d4-liuhong")
    page = client.get(url)
    assert page.status_code == 200 and 'id="exceptions"' in page.text
    assert f'action="{url}/exception"' in page.text
    past = _post(
        client, f"{url}/exception", token, reason="系统故障", until=str(today - timedelta(days=1))
    )
    assert past.status_code == 422 and "系统故障" in past.text
    assert run(_exceptions(period["id"], "r68")) == []
    nothing = _post(
        client, f"{url}/exception", token, reason="", until=str(today + timedelta(days=3))
    )
    assert nothing.status_code == 422
    junk = _post(client, f"{url}/exception", token, reason="系统故障", until="2028-02-31")
    assert junk.status_code == 422
    assert run(_exceptions(period["id"], "r68")) == []
    until = today + timedelta(days=5)
    granted = _post(client, f"{url}/exception", token, reason="系统故障补报", until=str(until))
    assert granted.status_code == 303
    rows = run(_exceptions(period["id"], "r68"))
    assert [(r["until"], r["reason"]) for r in rows] == [(until, "系统故障补报")]
    page = client.get(url)
    assert "系统故障补报" in page.text and until.isoformat() in page.text
    # A regiment's reviewer grants none: not for its own community, not outside its subtree.
    token = as_user("zr-supervisor")
    own = _post(
        client, f"/t/zr/reports/{period['id']}/c/zc/exception", token, reason="x", until=str(until)
    )
    assert own.status_code == 403
    other = _post(
        client, f"/t/zr/reports/{period['id']}/c/r68/exception", token, reason="x", until=str(until)
    )
    assert other.status_code == 404


def test_who_may_reach_a_review_page(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period_id, _ = run(_submit("r63", JAN))
    run(_submit("xb", JAN, problems="乙团的问题"))
    token = as_user("zr-supervisor")
    assert client.get(f"/t/zr/reports/{period_id}/c/r63").status_code == 404  # not zr's subtree
    refused = _post(
        client, f"/t/zr/reports/{period_id}/c/r63", token, decision="return", reason="x"
    )
    assert refused.status_code == 404
    token = as_user("xa-manager")
    for url in (f"/t/xb/reports/{period_id}/c/xb", f"/t/d4/reports/{period_id}/c/xb"):
        response = client.get(url)
        assert response.status_code == 404 and "乙团的问题" not in response.text
    mine = client.get(f"/t/xa/reports/{period_id}/c/xb")
    assert mine.status_code == 403 and "乙团的问题" not in mine.text  # no review capability
    assert (
        _post(client, f"/t/xa/reports/{period_id}/c/xb", token, decision="approve").status_code
        == 403
    )
    as_user("d4-liuhong")
    assert client.get(f"/t/d4/reports/{period_id}/c/d4").status_code == 404  # files no report
    assert client.get(f"/t/d4/reports/{period_id}/c/nowhere").status_code == 404
    assert client.get("/t/d4/reports/abc/c/xb").status_code == 404
    assert client.get("/t/d4/reports/99999999/c/xb").status_code == 404
    assert client.get(f"/t/d4/reports/{period_id}/c/xb").status_code == 200
