"""The work-log and assessment pages: write, 422 keeping input, review, read-only, cross-tenant
404, a supervisor reading a centre's logs, the rules editor and the scores."""

from __future__ import annotations

import re
from datetime import date
from html import escape

from app.staff import scheme as schemes
from app.staff.queries import worklogs as queries
from tests import reliability
from tests.conftest import login
from tests.staff.helpers import new_window, run, scope_of, working_days


def _log_id(response) -> int:  # type: ignore[no-untyped-def]
    found = re.search(r"/t/xa/worklogs/(\d+)", response.headers["location"])
    assert found, response.headers
    return int(found.group(1))


def test_write_review_and_read_only(client) -> None:  # type: ignore[no-untyped-def]
    window = run(new_window("xa", "xa-clerk", "xa-manager"))
    day = run(working_days("xa", date(2026, 2, 2), 1))[0]
    token = login(client, "xa-clerk")
    grid = client.get("/t/xa/worklogs?month=2026-02")
    assert grid.status_code == 200
    assert f"/t/xa/worklogs/new?window={window}&amp;day={day.isoformat()}" in grid.text
    url = f"/t/xa/worklogs/new?window={window}&day={day.isoformat()}"
    form = client.get(url)
    assert form.status_code == 200 and 'name="attendance_1"' in form.text
    bad = client.post(url, data={"csrf_token": token, "attendance_0": "present",
                                 "attendance_1": "late", "offline": "many",
                                 "style_notes": "热情周到 KEEP-ME"})  # fmt: skip
    assert bad.status_code == 422
    assert "KEEP-ME" in bad.text and 'value="many"' in bad.text
    assert run(queries.log_for(run(scope_of("xa-clerk", "xa")), _xa(), window, day)) is None
    ok = client.post(url, data={"csrf_token": token, "attendance_0": "present",
                                "attendance_1": "late", "offline": "2",
                                "discipline_notes": "迟到十分钟"})  # fmt: skip
    assert ok.status_code == 303
    log_id = _log_id(ok)
    again = client.get(url)  # the day has its log: the form sends you to it
    assert again.status_code == 303 and again.headers["location"].endswith(f"/{log_id}")
    page = client.get(f"/t/xa/worklogs/{log_id}")
    assert page.status_code == 200 and "迟到十分钟" in page.text
    assert f'action="/t/xa/worklogs/{log_id}/review"' not in page.text  # a clerk does not review
    assert (
        client.post(
            f"/t/xa/worklogs/{log_id}/review", data={"csrf_token": token, "lock_version": "0"}
        ).status_code
        == 403
    )

    token = login(client, "xa-manager")
    page = client.get(f"/t/xa/worklogs/{log_id}")
    assert f'action="/t/xa/worklogs/{log_id}/review"' in page.text
    reviewed = client.post(
        f"/t/xa/worklogs/{log_id}/review",
        data={"csrf_token": token, "lock_version": "0", "comment": "已阅 OK"},
    )
    assert reviewed.status_code == 303
    page = client.get(f"/t/xa/worklogs/{log_id}")
    assert "已阅 OK" in page.text and 'name="offline"' not in page.text  # read-only now
    refused = client.post(f"/t/xa/worklogs/{log_id}",
                          data={"csrf_token": token, "lock_version": "1", "attendance_0": "present",
                                "attendance_1": "present", "offline": "0"})  # fmt: skip
    assert refused.status_code == 422
    log = run(queries.log(run(scope_of("xa-manager", "xa")), log_id))
    assert log is not None and log["offline"] == 2 and log["staff"][1]["attendance"] == "late"

    summary = client.get("/t/xa/worklogs/summary?period=2026-Q1")
    assert summary.status_code == 200 and "甲窗口" in summary.text
    assert client.get("/t/xa/worklogs/summary?period=2026-Q9").status_code == 422


def _xa() -> int:
    from app.tenancy import queries as tenancy

    return run(tenancy.tree()).by_slug["xa"].id


def test_stale_edit_is_409_keeping_input(client) -> None:  # type: ignore[no-untyped-def]
    window = run(new_window("xa", "xa-clerk"))
    day = run(working_days("xa", date(2026, 2, 9), 1))[0]
    token = login(client, "xa-clerk")
    url = f"/t/xa/worklogs/new?window={window}&day={day.isoformat()}"
    log_id = _log_id(client.post(url, data={"csrf_token": token, "attendance_0": "present"}))
    first = client.post(
        f"/t/xa/worklogs/{log_id}",
        data={"csrf_token": token, "lock_version": "0", "attendance_0": "late"},
    )
    assert first.status_code == 303
    stale = client.post(f"/t/xa/worklogs/{log_id}",
                        data={"csrf_token": token, "lock_version": "0", "attendance_0": "absent",
                              "note": "STALE-TEXT"})  # fmt: skip
    assert stale.status_code == 409 and "STALE-TEXT" in stale.text


def test_cross_tenant_and_supervisor(client) -> None:  # type: ignore[no-untyped-def]
    window = run(new_window("xa", "xa-clerk"))
    day = run(working_days("xa", date(2026, 2, 16), 1))[0]
    token = login(client, "xa-clerk")
    url = f"/t/xa/worklogs/new?window={window}&day={day.isoformat()}"
    log_id = _log_id(client.post(url, data={"csrf_token": token, "attendance_0": "present"}))

    token = login(client, "xb-manager")
    assert reliability.cross_tenant(client.get(f"/t/xb/worklogs/{log_id}")).status_code == 404
    response = client.post(f"/t/xb/worklogs/{log_id}", data={"csrf_token": token})
    assert reliability.cross_tenant(response).status_code == 404
    review = {"csrf_token": token, "lock_version": "0"}
    response = client.post(f"/t/xb/worklogs/{log_id}/review", data=review)
    assert reliability.cross_tenant(response).status_code == 404
    assert reliability.cross_tenant(client.get(f"/t/xa/worklogs/{log_id}")).status_code == 404
    response = client.get(f"/t/xb/worklogs/new?window={window}&day={day}")
    assert reliability.cross_tenant(response).status_code == 404
    assert reliability.cross_tenant(client.get("/t/xb/assessment/centres/xa")).status_code == 404

    token = login(client, "d4-liuhong")
    assert client.get(f"/t/xa/worklogs/{log_id}").status_code == 200  # the subtree's logs
    assert client.get(f"/t/d4/worklogs/{log_id}").status_code == 404  # it belongs to xa
    assert client.get("/t/xa/worklogs?month=2026-02").status_code == 200
    index = client.get("/t/d4/worklogs")
    assert index.status_code == 200 and "/t/xa/worklogs" in index.text
    assert (
        client.post(
            f"/t/xa/worklogs/{log_id}/review", data={"csrf_token": token, "lock_version": "0"}
        ).status_code
        == 403
    )
    assert client.get(f"/t/xa/worklogs/new?window={window}").status_code == 403

    token = login(client, "zr-supervisor")
    response = client.get("/t/zr/assessment/centres/xa")
    assert reliability.cross_tenant(response).status_code == 404  # not its subtree
    assert client.get("/t/zr/assessment/centres/zc").status_code == 200
    assert reliability.cross_tenant(client.get(f"/t/zr/worklogs/{log_id}")).status_code == 404


def test_rules_editor_and_scores(client) -> None:  # type: ignore[no-untyped-def]
    token = login(client, "d4-liuhong")
    rules = client.get("/t/d4/assessment/rules")
    assert rules.status_code == 200
    if escape("Use the recommended rules") in rules.text or "使用推荐规则" in rules.text:
        done = client.post("/t/d4/assessment/rules", data={"csrf_token": token, "recommended": "1"})
        assert done.status_code == 303
        rules = client.get("/t/d4/assessment/rules")
    assert "on_time_rate" in rules.text and "inspection_percent" in rules.text
    lock = re.search(r'name="lock_version" value="(\d+)"', rules.text)
    assert lock
    posted = {
        "csrf_token": token, "lock_version": lock.group(1),
        "c0_key": "on_time", "c0_label": "按时办结率", "c0_applies": "both",
        "c0_expression": "on_time_rate * 1.0", "c0_weight": "60",
        "c1_key": "speed", "c1_label": "速度 KEEP", "c1_applies": "window",
        "c1_expression": "speed_rate + 1", "c1_weight": "40",
    }  # fmt: skip
    bad = client.post("/t/d4/assessment/rules", data=posted)
    assert bad.status_code == 422
    assert "speed_rate + 1" in bad.text and "速度 KEEP" in bad.text
    assert 'class="field f-expression has-error"' in bad.text
    again = client.post("/t/d4/assessment/rules", data={**posted, "c1_expression": "(good_rate"})
    assert again.status_code == 422 and "(good_rate" in again.text
    good = {**posted, "c1_key": "attend", "c1_expression": "attendance_rate", "c1_label": "考勤"}
    saved = client.post("/t/d4/assessment/rules", data=good)
    assert saved.status_code == 303
    page = client.get("/t/d4/assessment/rules")
    assert "on_time_rate * 1.0" in page.text and "attendance_rate" in page.text
    stale = client.post("/t/d4/assessment/rules", data={**good, "c1_label": "STALE-LABEL"})
    assert stale.status_code == 409 and "STALE-LABEL" in stale.text  # the old lock version
    restore = re.search(r'name="lock_version" value="(\d+)"', page.text)
    assert restore
    rows = {"csrf_token": token, "lock_version": restore.group(1)}
    for i, c in enumerate(schemes.RECOMMENDED):
        rows.update({f"c{i}_{k}": v for k, v in c.items()})
    assert client.post("/t/d4/assessment/rules", data=rows).status_code == 303
    scores = client.get("/t/d4/assessment?month=2025-06")
    assert scores.status_code == 200
    assert "/t/d4/assessment/centres/xa?month=2025-06" in scores.text
    centre = client.get("/t/d4/assessment/centres/xa?month=2025-06")
    assert centre.status_code == 200 and "甲1号窗口" in centre.text
    assert client.get("/t/d4/assessment/centres/no-such-centre").status_code == 404

    token = login(client, "xa-manager")
    assert client.get("/t/xa/assessment?month=2025-06").status_code == 200
    assert client.get("/t/xa/assessment/rules").status_code == 200
    assert (
        client.post(
            "/t/xa/assessment/rules", data={"csrf_token": token, "recommended": "1"}
        ).status_code
        == 403
    )
    assert client.get("/t/xa/assessment/centres/xb").status_code == 404
    login(client, "xa-clerk")
    assert client.get("/t/xa/assessment").status_code == 403
