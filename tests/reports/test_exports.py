"""Exports of monthly reports, read back with openpyxl: one submission (at once) and the
roll-up (a job through the in-process broker, with progress and a download).

Months used here: 2028-07 and 2028-08.  xa and r63 file 2028-07; r63 files nothing else.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import dramatiq
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from app.accounts import queries as accounts
from app.reports import exports, filing
from app.reports.queries import exports as export_queries
from app.tenancy import queries as tenancy
from app.web.i18n import gettext
from tests import reliability
from tests.reports.helpers import (
    filled,
    manager_scope,
    notes,
    open_period,
    run,
    scope_of,
    seed_form,
)

INJECTED = '=HYPERLINK("http://evil.example/","点我")'
DDE = "+cmd|' /C calc'!A0"
MANAGERS = {"r63": "r63-zhoujianguo", "xa": "xa-manager", "xb": "xb-manager"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def worker(broker: dramatiq.Broker) -> Iterator[dramatiq.Worker]:
    """A worker started only by ``_run_jobs``: until then a job stays queued, so a test can
    look at a job that has not run (no race with a worker already consuming)."""
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    yield worker
    if getattr(worker, "started_by_test", False):
        worker.stop()


def _run_jobs(broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    if not getattr(worker, "started_by_test", False):
        worker.start()
        worker.started_by_test = True  # type: ignore[attr-defined]
    broker.join("exports", fail_fast=True)
    worker.join()


async def _submit(slug: str, month: int, **overrides: str) -> dict[str, Any]:
    """The centre's report for ``month``, submitted (once: later calls change nothing)."""
    period = await open_period(month)
    scope = await scope_of(MANAGERS[slug], slug)
    report = await filing.load(scope, period["id"])
    if report.submission is None or report.submission["status"] in ("draft", "returned"):
        values = filled(report, registered="0", carried_over="0", concluded="0", on_time="0")
        values.update(overrides)
        await filing.submit(
            scope,
            report,
            values,
            corrections=notes(report),
            comments={"registered_change": "测试"},
            lock_version=report.lock_version,
        )
    return period


def _book(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content))


def _row_of(ws: Worksheet, column: int, text: str) -> int:
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == text:
            return int(row[0].row)
    raise AssertionError(f"{text!r} not in column {column} of {ws.title}")


def test_a_centre_downloads_its_own_report(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period = run(_submit("xa", 202807, staff="4", problems=INJECTED, plans=DDE))
    definition = run(filing.load(run(manager_scope("xa")), period["id"])).definition
    as_user("xa-manager")
    response = client.get(f"/t/xa/reports/{period['id']}/export.xlsx")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX_MIME
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = _book(response.content)
    values, checks, history = book.worksheets[:3]
    staff = _row_of(values, 2, definition.field("staff").label)  # type: ignore[union-attr]
    assert values.cell(staff, 3).value == 4 and values.cell(staff, 3).data_type == "n"
    problems = _row_of(values, 2, definition.field("problems").label)  # type: ignore[union-attr]
    cell = values.cell(problems, 3)
    assert cell.value == INJECTED and cell.data_type == "s"  # text, never a formula
    plans = values.cell(_row_of(values, 2, definition.field("plans").label), 3)  # type: ignore[union-attr]
    assert plans.value == DDE and plans.data_type == "s" and plans.quotePrefix
    head = _row_of(values, 1, gettext("Section"))
    assert values.cell(head, 1).font.bold and values.freeze_panes == f"C{head + 1}"
    assert checks.max_row > 1  # the rule results
    assert history.cell(2, 2).value  # the submission in the history
    # Another centre's export of the same month: xb has no report → 404; xa's own from xb → 404.
    as_user("xb-manager")
    assert client.get(f"/t/xb/reports/{period['id']}/export.xlsx").status_code == 404
    assert client.get(f"/t/xa/reports/{period['id']}/export.xlsx").status_code == 404


def test_a_reviewer_downloads_a_centre_report(client, as_user) -> None:  # type: ignore[no-untyped-def]
    period = run(_submit("xa", 202807, staff="4", problems=INJECTED))
    as_user("d4-liuhong")
    response = client.get(f"/t/d4/reports/{period['id']}/c/xa/export.xlsx")
    assert response.status_code == 200
    texts = [c.value for row in _book(response.content).worksheets[0].iter_rows() for c in row]
    assert INJECTED in texts
    assert client.get(f"/t/d4/reports/{period['id']}/c/nosuch/export.xlsx").status_code == 404
    as_user("zr-supervisor")  # xa is not under zr
    assert client.get(f"/t/zr/reports/{period['id']}/c/xa/export.xlsx").status_code == 404
    as_user("xb-manager")  # no report.review
    assert client.get(f"/t/xb/reports/{period['id']}/c/xa/export.xlsx").status_code == 403


def test_a_submission_export_job_polls_then_serves_the_file(
    client, as_user, broker, worker
) -> None:  # type: ignore[no-untyped-def]
    period = run(_submit("xa", 202807, staff="4", problems=INJECTED))
    token = as_user("xa-manager")
    response = client.post(
        "/t/xa/reports/exports",
        data={"csrf_token": token, "kind": "submission", "period_id": str(period["id"])},
    )
    assert response.status_code == 303, response.text[:500]
    url = response.headers["location"]
    waiting = client.get(url)
    assert 'hx-trigger="every 2s"' in waiting.text and "<progress" in waiting.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in waiting.text
    poll = client.get(url, headers={"HX-Request": "true"})
    assert poll.text.lstrip().startswith('<section id="export-status"') and "<html" not in poll.text
    assert 'hx-trigger="every 2s"' in poll.text
    assert client.get(f"{url}/file").status_code == 404  # not ready yet
    _run_jobs(broker, worker)
    poll = client.get(url, headers={"HX-Request": "true"})
    assert "every 2s" not in poll.text and f'href="{url}/file"' in poll.text
    download = client.get(f"{url}/file")
    assert download.status_code == 200
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    texts = [c for row in _book(download.content).worksheets[0].iter_rows() for c in row]
    injected = next(c for c in texts if c.value == INJECTED)
    assert injected.data_type == "s"


def test_the_rollup_export_runs_as_a_job(client, as_user, broker, worker) -> None:  # type: ignore[no-untyped-def]
    run(_submit("xa", 202807, staff="4"))
    run(_submit("r63", 202807, staff="6"))
    run(open_period(202808))
    form = run(seed_form())
    token = as_user("d4-liuhong")
    response = client.post(
        "/t/d4/reports/exports",
        data={
            "csrf_token": token,
            "kind": "rollup",
            "form": str(form["id"]),
            "from": "2028-07",
            "to": "2028-08",
            "under": "d4",
        },
    )
    assert response.status_code == 303, response.text[:500]
    url = response.headers["location"]
    assert re.fullmatch(r"/t/d4/reports/exports/\d+", url)
    waiting = client.get(url)
    assert waiting.status_code == 200
    assert 'hx-trigger="every 2s"' in waiting.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in waiting.text
    _run_jobs(broker, worker)
    page = client.get(url)
    assert f'href="{url}/file"' in page.text and "every 2s" not in page.text
    poll = client.get(url, headers={"HX-Request": "true"})
    assert poll.text.lstrip().startswith('<section id="export-status"') and "<html" not in poll.text
    job_id = int(url.rsplit("/", 1)[1])
    scope = run(scope_of("d4-liuhong", "d4"))
    job = run(exports.job(scope, job_id))
    assert job["status"] == "done" and job["total"] > 0 and job["done"] == job["total"]
    download = client.get(f"{url}/file")
    assert download.status_code == 200
    assert download.headers["content-type"] == XLSX_MIME
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    book = _book(download.content)
    totals, grid = book.worksheets[:2]
    tree = run(tenancy.tree())
    headers = [c.value for c in totals[1]]
    label = definition_label("staff")
    staff_col = next(i for i, h in enumerate(headers, start=1) if str(h).startswith(label))
    r63 = _row_of(totals, 1, tree.by_slug["r63"].name)
    assert totals.cell(r63, staff_col).value == 6
    assert totals.cell(r63, staff_col).data_type == "n"
    total_row = _row_of(totals, 1, gettext("Total"))
    centre_rows = range(2, total_row)
    summed = sum(totals.cell(r, staff_col).value or 0 for r in centre_rows)
    assert totals.cell(total_row, staff_col).value == summed
    assert len(centre_rows) * 2 == job["total"]
    assert totals.freeze_panes == "B2" and totals.cell(1, 1).font.bold
    # The status grid: r63 filed 2028-07 (on time) and not 2028-08.
    row = _row_of(grid, 1, tree.by_slug["r63"].name)
    assert [grid.cell(row, 2).value, grid.cell(row, 3).value] == [
        gettext("Submitted on time"),
        gettext("Not started"),
    ]
    assert grid.cell(row, 4).value == 0.5 and grid.cell(row, 4).number_format == "0.0%"
    # A retry of a finished job builds nothing and keeps its one file.
    assert run(exports.run(job_id)) == "done"
    assert run(exports.job(scope, job_id))["file_id"] == job["file_id"]


def test_another_tenants_job_is_not_found(client, as_user, broker, worker) -> None:  # type: ignore[no-untyped-def]
    form = run(seed_form())
    token = as_user("xb-manager")
    response = client.post(
        "/t/xb/reports/exports",
        data={
            "csrf_token": token,
            "kind": "rollup",
            "form": str(form["id"]),
            "from": "202807",
            "to": "202808",
        },
    )
    assert response.status_code == 303, response.text[:500]
    url = response.headers["location"]
    _run_jobs(broker, worker)
    assert client.get(f"{url}/file").status_code == 200
    as_user("xa-manager")
    at_xa = url.replace("/t/xb/", "/t/xa/")
    assert reliability.cross_tenant(client.get(at_xa)).status_code == 404
    assert reliability.cross_tenant(client.get(at_xa + "/file")).status_code == 404
    assert reliability.cross_tenant(client.get(url)).status_code == 404  # not a member of xb


def test_a_refused_request_keeps_what_was_typed(client, as_user) -> None:  # type: ignore[no-untyped-def]
    form = run(seed_form())
    token = as_user("xa-manager")
    refused = client.post(
        "/t/xa/reports/exports",
        data={
            "csrf_token": token,
            "kind": "rollup",
            "form": str(form["id"]),
            "from": "2028-07",
            "under": "xb",  # a centre xa's manager cannot read
        },
    )
    assert refused.status_code == 422
    assert 'value="2028-07"' in refused.text and 'value="xb"' in refused.text
    assert gettext("Choose centres you can see.") in refused.text
    assert gettext("Enter a month as YYYY-MM.") in refused.text  # "to" is missing
    refused = client.post(
        "/t/xa/reports/exports",
        data={"csrf_token": token, "kind": "submission", "period_id": "1", "centre": "xb"},
    )
    assert refused.status_code == 422
    assert gettext("Choose a centre whose reports you can see.") in refused.text
    # A division supervisor looking at a regiment has no write there: no job is recorded.
    token = as_user("d4-liuhong")
    visiting = client.post(
        "/t/xa/reports/exports",
        data={
            "csrf_token": token,
            "kind": "rollup",
            "form": str(form["id"]),
            "from": "202807",
            "to": "202807",
        },
    )
    assert visiting.status_code == 403


def test_a_failed_job_shows_the_error(client, as_user, broker, worker) -> None:  # type: ignore[no-untyped-def]
    async def request() -> int:
        scope = await manager_scope("xa")
        user = await accounts.user_by_username("xa-manager")
        assert user is not None
        params = {"form": 2_000_000_000, "from": 202807, "to": 202807, "under": scope.own()}
        return await exports.request_export(scope, "rollup", params, SimpleNamespace(id=user["id"]))  # type: ignore[arg-type]

    job_id = run(request())
    _run_jobs(broker, worker)
    scope = run(manager_scope("xa"))
    job = run(exports.job(scope, job_id))
    assert job["status"] == "failed" and job["file_id"] is None
    as_user("xa-manager")
    page = client.get(f"/t/xa/reports/exports/{job_id}")
    assert page.status_code == 200
    assert gettext("The form no longer exists.") in page.text and "every 2s" not in page.text
    assert client.get(f"/t/xa/reports/exports/{job_id}/file").status_code == 404


def definition_label(key: str) -> str:
    form = run(seed_form())
    period = run(open_period(202807, form))
    report = run(filing.load(run(manager_scope("xa")), period["id"]))
    found = report.definition.field(key)
    assert found is not None
    return found.label


def test_progress_is_written_in_steps() -> None:
    async def go() -> None:
        scope = await manager_scope("xa")
        user = await accounts.user_by_username("xa-manager")
        assert user is not None
        job_id = await exports.request_export(
            scope,
            "rollup",
            {"form": 1, "from": 202807, "to": 202807, "under": scope.own()},
            SimpleNamespace(id=user["id"]),  # type: ignore[arg-type]
        )
        row = await export_queries.job(scope, job_id, scope.own())
        assert row is not None and row["status"] == "queued"
        progress = exports._Progress(scope, row)
        seen = []
        for done in range(1, 46):
            await progress.write(done, 45)
            seen.append((await export_queries.job(scope, job_id, scope.own()) or {})["done"])
        assert seen[18] == 0 and seen[19] == 20 and seen[39] == 40 and seen[-1] == 45

    asyncio.run(go())
