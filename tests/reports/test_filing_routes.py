"""The centre's report pages over HTTP: list, form, drafts, autosave, submit, copy / zero,
conflicts, the lock, what another centre or a clerk gets.  Months 2027-07 .. 2027-09 are
this file's own (open), 2025-08 is locked; each test writes its own (centre, month)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.reports import filing, periods, review
from app.reports.queries import submissions as submission_queries
from app.tenancy import queries as tenancy
from app.web.i18n import gettext
from tests import reliability
from tests.reports.helpers import filled, open_period, run, scope_of

JUL, AUG, SEP, LOCKED = 202707, 202708, 202709, 202508
MANAGERS = {
    "xa": "xa-manager",
    "xb": "xb-manager",
    "r63": "r63-zhoujianguo",
    "r68": "r68-liguohua",
    "zr": "zr-manager",
    "zc": "zc-manager",
    "c-huacheng": "c-huacheng-wujing",
}
# prev(registered) depends on whatever the centre submitted before: explain it always.
ALWAYS = {"comment_registered_change": "与上月口径一致"}


def period_id(month: int) -> int:
    return int(run(open_period(month))["id"])


def url(slug: str, pid: int) -> str:
    return f"/t/{slug}/reports/{pid}"


def report_of(slug: str, pid: int) -> filing.Filing:
    scope = run(scope_of(MANAGERS[slug], slug))
    return run(filing.load(scope, pid))


def form_data(
    report: filing.Filing,
    token: str,
    action: str,
    *,
    extra: dict[str, str] | None = None,
    **values: str,
) -> dict[str, str]:
    """A complete, valid post of ``report`` (then ``values`` and ``extra`` fields)."""
    data = {"csrf_token": token, "action": action, "lock_version": str(report.lock_version)}
    data.update({f"f_{k}": v for k, v in filled(report, **values).items()})
    data.update(ALWAYS)
    data.update(extra or {})
    return data


def events_of(slug: str, pid: int) -> list[dict[str, Any]]:
    report, scope = report_of(slug, pid), run(scope_of(MANAGERS[slug], slug))
    sub_id = report.submission["id"] if report.submission else 0
    return list(run(submission_queries.events(scope, sub_id))) if sub_id else []


# --- the list -------------------------------------------------------------------------------


def test_list_shows_the_centres_periods(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    as_user("xa-manager")
    page = client.get("/t/xa/reports")
    assert page.status_code == 200
    assert f'href="/t/xa/reports/{pid}"' in page.text
    assert periods.month_label(JUL) in page.text
    assert "2027-08-05" in page.text and "2027-08-10" in page.text
    assert "/static/css/reports.css" in page.text
    assert page.headers["Vary"].startswith("HX-Request")


def test_division_gets_pointers_and_no_form(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    as_user("d4-liuhong")
    page = client.get("/t/d4/reports")
    assert page.status_code == 200
    assert 'href="/t/d4/reports/grid"' in page.text and 'href="/t/d4/reports/rollup"' in page.text
    assert client.get(url("d4", pid)).status_code == 404  # the division does not file it
    as_user("d4-chenzhiqiang")  # a manager there: report.fill, still not a filer
    assert client.get(url("d4", pid)).status_code == 404
    assert (
        client.post(url("d4", pid), data={"csrf_token": as_user("d4-chenzhiqiang")}).status_code
        == 404
    )


def test_clerk_is_refused(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("xa-clerk")
    assert client.get("/t/xa/reports").status_code == 403
    assert client.get(url("xa", pid)).status_code == 403
    assert (
        client.post(url("xa", pid), data={"csrf_token": token, "action": "save"}).status_code == 403
    )


# --- the form -------------------------------------------------------------------------------


def test_form_for_the_manager(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    as_user("r68-liguohua")
    page = client.get(url("r68", pid))
    assert page.status_code == 200
    text = page.text
    assert "便民服务中心业务办理及服务情况月报表" in text
    assert 'name="f_registered"' in text and 'inputmode="decimal"' in text
    assert 'type="number"' not in text
    assert 'name="f_problems"' in text and "<textarea" in text  # text field
    assert 'name="f_guide_public" value="yes"' in text  # yes/no radios
    assert 'name="lock_version" value="0"' in text
    assert f'hx-post="/t/r68/reports/{pid}"' in text
    assert 'src="/static/js/report-draft.js"' in text
    assert "<script>" not in text and " style=" not in text and "hx-on" not in text
    report = report_of("r68", pid)
    live = report.sources["registered"]["value"]
    source_line = gettext(
        "From the case records: %(value)s (counted at %(time)s)", value=live, time=""
    )
    assert source_line.split(live)[0] in text
    for action in ("save", "submit", "zero"):
        assert f'name="action" value="{action}"' in text


def test_another_centre_sees_only_its_own(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("xb-manager")
    report = report_of("xb", pid)
    data = form_data(report, token, "save", problems="CANARYB 问题")
    assert client.post(url("xb", pid), data=data).status_code == 303
    assert "CANARYB" in client.get(url("xb", pid)).text
    as_user("xa-manager")
    own = reliability.cross_tenant(client.get(url("xa", pid)), shows="CANARYB", listing=True)
    assert own.status_code == 200 and "CANARYB" not in own.text
    assert reliability.cross_tenant(client.get(url("xb", pid))).status_code == 404
    reports = reliability.cross_tenant(client.get("/t/xa/reports"), shows="CANARYB", listing=True)
    assert "CANARYB" not in reports.text


def test_draft_keeps_bad_input(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("xa-manager")
    report = report_of("xa", pid)
    data = form_data(report, token, "save", staff="十二", windows="4")
    response = client.post(url("xa", pid), data=data)
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/xa/reports/{pid}?saved=1"
    page = client.get(response.headers["location"])
    assert gettext("Draft saved.") in page.text
    assert 'value="十二"' in page.text  # the typed text is shown again …
    assert gettext("Enter a number") in page.text  # … with its problem
    assert 'data-clear-draft="1"' in page.text
    saved = report_of("xa", pid)
    assert saved.submission is not None and saved.submission["status"] == "draft"
    assert saved.values["windows"] == "4" and saved.values["staff"] == "十二"


def test_refused_submit_keeps_input_and_writes_nothing(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(AUG)
    token = as_user("xb-manager")
    report = report_of("xb", pid)
    assert client.post(url("xb", pid), data=form_data(report, token, "save")).status_code == 303
    before = report_of("xb", pid)
    assert before.submission is not None
    events = len(events_of("xb", pid))
    data = form_data(
        before,
        token,
        "submit",
        concluded="99",
        agency="17",
        extra={"note_concluded": "按台账", "f_plans": "下月加强培训"},
    )
    response = client.post(url("xb", pid), data=data)
    assert response.status_code == 422
    assert 'value="99"' in response.text and 'value="17"' in response.text
    assert "下月加强培训" in response.text and "按台账" in response.text
    assert "办结件数不能超过本月登记件数与上月结转件数之和。" in response.text
    after = report_of("xb", pid)
    assert after.submission is not None
    assert after.submission["lock_version"] == before.submission["lock_version"]
    assert after.submission["status"] == "draft"
    assert len(events_of("xb", pid)) == events


def test_warning_needs_a_comment_then_return_shows_the_reason(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(AUG)
    token = as_user("r68-liguohua")
    report = report_of("r68", pid)
    data = form_data(report, token, "submit", open_days="5")
    response = client.post(url("r68", pid), data=data)
    assert response.status_code == 422
    assert 'name="comment_open_days_range"' in response.text
    assert "本月对外办公天数不在15至31天之间，请说明原因。" in response.text
    data["comment_open_days_range"] = "本月办公场所装修"
    response = client.post(url("r68", pid), data=data)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?saved=submitted")
    page = client.get(url("r68", pid))
    assert 'name="action"' not in page.text  # read-only now
    assert "本月办公场所装修" in page.text
    assert gettext("Submitted") in page.text  # the history
    # The division returns it: the centre sees the reason and may change it again.
    submitted = report_of("r68", pid)
    assert submitted.submission is not None
    tree = run(tenancy.tree())
    division = run(scope_of("d4-liuhong", "d4"))
    run(review.decide(None, tree, division, submitted.submission["id"], "return", "办公天数请核实"))
    listing = client.get("/t/r68/reports")
    assert "办公天数请核实" in listing.text
    page = client.get(url("r68", pid))
    assert "办公天数请核实" in page.text and 'name="action" value="submit"' in page.text


def test_correction_note_required_when_a_figure_changes(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("c-huacheng-wujing")
    report = report_of("c-huacheng", pid)
    live = int(report.sources["registered"]["value"])
    changed = str(live + 5)
    data = form_data(report, token, "submit", registered=changed)
    response = client.post(url("c-huacheng", pid), data=data)
    assert response.status_code == 422
    assert 'name="note_registered"' in response.text
    message = gettext(
        "This differs from the case records (%(value)s): say why in the note", value=str(live)
    )
    assert message.split("(")[0] in response.text
    assert f'value="{changed}"' in response.text
    data["note_registered"] = "补录纸质台账5件"
    response = client.post(url("c-huacheng", pid), data=data)
    assert response.status_code == 303
    saved = report_of("c-huacheng", pid)
    assert saved.submission is not None and saved.submission["status"] == "submitted"
    assert saved.submission["corrections"]["registered"] == "补录纸质台账5件"
    page = client.get(url("c-huacheng", pid))
    assert "补录纸质台账5件" in page.text  # visible on the read-only page (and to reviewers)


def test_copy_last_month(client, as_user) -> None:  # type: ignore[no-untyped-def]
    first, second = period_id(JUL), period_id(AUG)
    token = as_user("zr-manager")
    report = report_of("zr", first)
    data = form_data(report, token, "submit", staff="7", windows="6", ab_posts="5", open_days="22")
    assert client.post(url("zr", first), data=data).status_code == 303
    report = report_of("zr", second)
    page = client.get(url("zr", second))
    assert 'name="action" value="copy"' in page.text
    data = {
        "csrf_token": token,
        "action": "copy",
        "lock_version": str(report.lock_version),
        "f_agency": "3",
    }
    response = client.post(url("zr", second), data=data)
    assert response.status_code == 303 and response.headers["location"].endswith("?saved=copy")
    copied = report_of("zr", second)
    assert copied.submission is not None and copied.submission["status"] == "draft"
    assert copied.values["staff"] == "7" and copied.values["windows"] == "6"
    assert copied.values["open_days"] == "22"
    # Figures counted from case records keep this month's numbers.
    assert copied.values.get("registered") == copied.sources["registered"]["value"]


def test_fill_empty_with_zero(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("zc-manager")
    report = report_of("zc", pid)
    data = {
        "csrf_token": token,
        "action": "zero",
        "lock_version": str(report.lock_version),
        "f_staff": "2",
        "f_problems": "",
    }
    response = client.post(url("zc", pid), data=data)
    assert response.status_code == 303 and response.headers["location"].endswith("?saved=zero")
    zeroed = report_of("zc", pid)
    assert zeroed.values["staff"] == "2"
    assert zeroed.values["agency"] == "0" and zeroed.values["bad"] == "0"
    assert "problems" not in zeroed.values and "guide_public" not in zeroed.values
    page = client.get(response.headers["location"]).text
    assert gettext("Empty number fields were set to 0 and saved as a draft.") in page


def test_autosave_fragment_and_lock_version(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(JUL)
    token = as_user("r63-zhoujianguo")
    hx = {"HX-Request": "true"}
    data = {"csrf_token": token, "action": "autosave", "lock_version": "0", "f_staff": "4"}
    response = client.post(url("r63", pid), data=data, headers=hx)
    assert response.status_code == 200
    assert "<html" not in response.text and "<main" not in response.text
    assert 'id="lock-version"' in response.text and 'hx-swap-oob="true"' in response.text
    assert 'value="1"' in response.text
    data.update(lock_version="1", f_windows="abc")  # a bad value is kept as typed
    response = client.post(url("r63", pid), data=data, headers=hx)
    assert response.status_code == 200 and 'value="2"' in response.text
    assert "开设窗口数" in response.text  # named as still to fix
    saved = report_of("r63", pid)
    assert saved.lock_version == 2 and saved.values["windows"] == "abc"
    assert saved.values["staff"] == "4"
    data.update(lock_version="2", f_windows="3", f_ab_posts="5")  # more AB posts than windows
    response = client.post(url("r63", pid), data=data, headers=hx)
    assert response.status_code == 200 and 'value="3"' in response.text
    assert "落实AB岗的窗口数不能超过开设窗口数" in response.text  # the blocking check, named
    data.update(lock_version="1")
    stale = client.post(url("r63", pid), data=data, headers=hx)  # lock_version 1 again
    assert stale.status_code == 409 and "hx-swap-oob" not in stale.text
    assert report_of("r63", pid).lock_version == 3


def test_conflict_keeps_typed_values(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(AUG)
    token = as_user("r63-zhoujianguo")
    report = report_of("r63", pid)
    first = form_data(report, token, "save", agency="11")
    assert client.post(url("r63", pid), data=first).status_code == 303
    second = form_data(report, token, "save", agency="12345")  # loaded before the first save
    response = client.post(url("r63", pid), data=second)
    assert response.status_code == 409
    assert 'value="12345"' in response.text
    assert 'name="lock_version" value="1"' in response.text  # saving again is deliberate
    assert report_of("r63", pid).values["agency"] == "11"


def test_locked_period_is_read_only(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(LOCKED)
    token = as_user("xa-manager")
    report = report_of("xa", pid)
    assert report.access.locked
    page = client.get(url("xa", pid))
    assert page.status_code == 200
    assert report.access.reason in page.text
    assert 'name="action"' not in page.text and "report-draft.js" not in page.text
    response = client.post(url("xa", pid), data=form_data(report, token, "submit"))
    assert response.status_code == 422
    assert report.access.reason in response.text
    assert report_of("xa", pid).submission is None
    listing = client.get("/t/xa/reports")
    assert gettext("Locked") in listing.text


def test_htmx_and_plain_requests(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(SEP)
    token = as_user("r68-liguohua")
    fragment = client.get(url("r68", pid), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="report-form"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get(url("r68", pid))
    assert "<html" in full.text and 'id="report-form"' in full.text
    report = report_of("r68", pid)
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    data = form_data(report, token, "save", agency="2")
    response = client.post(url("r68", pid), data=data, headers=boosted)
    assert response.status_code == 303
    # Without htmx an "autosave" is a plain save (PRG).
    data = form_data(report_of("r68", pid), token, "autosave", agency="3")
    response = client.post(url("r68", pid), data=data)
    assert response.status_code == 303
    assert report_of("r68", pid).values["agency"] == "3"
    assert client.get(f"/t/r68/reports/{2**40}").status_code == 404


def test_exception_reopens_a_locked_period(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(LOCKED)
    tree = run(tenancy.tree())
    division = run(scope_of("d4-liuhong", "d4"))
    until = periods.local_today() + timedelta(days=5)
    centre = tree.by_slug["zc"].id
    run(review.grant_exception(None, tree, division, pid, centre, "系统故障补报", until))
    token = as_user("zc-manager")
    page = client.get(url("zc", pid))
    assert page.status_code == 200
    assert 'name="action" value="submit"' in page.text
    assert until.isoformat() in page.text and "系统故障补报" in page.text
    report = report_of("zc", pid)
    response = client.post(url("zc", pid), data=form_data(report, token, "save", agency="1"))
    assert response.status_code == 303
    assert report_of("zc", pid).values["agency"] == "1"


def test_reader_without_fill_gets_a_read_only_page(client, as_user) -> None:  # type: ignore[no-untyped-def]
    pid = period_id(SEP)
    token = as_user("zr-supervisor")  # report.view at a regiment that files, no report.fill
    listing = client.get("/t/zr/reports")
    assert listing.status_code == 200 and f'href="/t/zr/reports/{pid}"' in listing.text
    assert 'href="/t/zr/reports/grid"' in listing.text  # it reviews its communities
    page = client.get(url("zr", pid))
    assert page.status_code == 200
    assert 'name="action"' not in page.text
    assert gettext("Only the manager of the centre fills in this report.") in page.text
    data = {"csrf_token": token, "action": "save", "lock_version": "0", "f_agency": "1"}
    assert client.post(url("zr", pid), data=data).status_code == 403
    assert report_of("zr", pid).submission is None
