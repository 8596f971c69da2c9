"""Hostile input on the reviewers' and exporters' POSTs (issue 6): approve / return, the
lock exception and the export request, with a valid CSRF token and hostile bodies (junk
decisions, 100 000-character reasons, NUL, files where text is expected, impossible or far
dates, junk or foreign form and period ids, junk months): never a 5xx, a refusal with its
message and the input kept, and the row counts of the reports tables as they were.  Also
the parser behind every number box, with the same hostile text.  The probe: hostile.py.
"""

from __future__ import annotations

from datetime import timedelta

from markupsafe import escape

from app.reports import filing, periods
from tests import reliability
from tests.reports.helpers import run, scope_of
from tests.reports.hostile import (
    BAD_NUMBERS,
    DIGITS,
    IDS,
    LONG,
    MANAGER,
    MONTHS,
    ODD_NUMBERS,
    SCRIPT,
    SUPERVISOR,
    Probe,
    file_part,
    said,
    summary,  # noqa: F401  (prints the count of hostile requests at the end)
    world_fixture,  # noqa: F401  (the ``world`` fixture)
)

# --- 3. the review, the lock exception --------------------------------------------------


def _review_lock(period_id: int) -> int:
    scope = run(scope_of(MANAGER, "r63"))
    report = run(filing.load(scope, period_id))
    assert report.submission is not None and report.submission["status"] == "submitted"
    return int(report.lock_version)


def test_review_refuses_hostile_decisions(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"/t/d4/reports/{world.nov}/c/r63"
    lock = str(_review_lock(world.nov))
    choose = said("Choose approve or return.")
    reason_needed = said("Say what must be fixed: the centre sees this reason.")
    too_long = said("At most %(n)s characters", n=1000)
    changed = said("The report changed while you were reading it: check it again, then decide.")
    for decision in ("", "maybe", SCRIPT, "approve\x00", "APPROVE", " approve", LONG, "endorse"):
        data = {"csrf_token": token, "decision": decision, "lock_version": lock, "reason": "x"}
        probe.refused(url, data, f"decision={decision[:12]!r}", (choose,))
    for reason in ("", "   ", "\x00", "\x00 \x00", "x" * 100_000, LONG, SCRIPT * 100):
        data = {"csrf_token": token, "decision": "return", "lock_version": lock, "reason": reason}
        response = probe.refused(url, data, f"reason={reason[:12]!r}", (reason_needed, too_long))
        if response is not None and str(escape(reason.strip("\x00 "))) not in response.text:
            probe.problems.append(f"reason={reason[:12]!r}: what was typed is not kept")
    # A lock version that is not the page's: never a blind decision.
    for junk in ("", "abc", "-1", "0", "2147483648", "99999999999999999999", DIGITS, "²", "1.0"):
        for decision, reason in (("approve", ""), ("return", "请核实")):
            data = {"csrf_token": token, "decision": decision, "reason": reason}
            if junk:
                data["lock_version"] = junk
            probe.refused(url, data, f"{decision} lock={junk[:12]!r}", (changed,))
    # A file where text is expected.
    for name in ("reason", "decision", "lock_version"):
        data = {"csrf_token": token, "decision": "return", "lock_version": lock, "reason": "x"}
        del data[name]
        label = f"file as {name}"
        probe.refused(url, data, label, (reason_needed, choose, changed), files=file_part(name))
    # Both buttons at once: still one decision, refused here for the missing reason.
    both = [("csrf_token", token), ("decision", "approve"), ("decision", "return")]
    probe.refused(url, [*both, ("lock_version", lock)], "both", (reason_needed, choose))
    # Nobody's centre, no such period: 404.
    data = {"csrf_token": token, "decision": "approve", "lock_version": lock}
    for bad in (f"/t/d4/reports/{world.nov}/c/nope", "/t/d4/reports/2147483647/c/r63"):
        probe.refused(bad, data, "unknown", (), (404,))
    # The centre itself may not review.
    token = as_user(MANAGER)
    data = {"csrf_token": token, "decision": "approve", "lock_version": lock}
    probe.refused(f"/t/r63/reports/{world.nov}/c/r63", data, "centre", (), (403, 404))
    probe.check()


def test_exception_refuses_hostile_dates_and_reasons(client, as_user, world) -> None:  # type: ignore[no-untyped-def]

    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"/t/d4/reports/{world.nov}/c/r63/exception"
    today = periods.local_today()
    shown = ('<p class="error">',)
    for until in (
        "",
        "abc",
        "2026-02-30",
        "2026-13-01",
        "9999-12-31",
        "99999-01-01",
        "0001-01-01",
        "２０２８-１２-０１",
        "\x00",
        LONG,
        SCRIPT,
        (today - timedelta(days=1)).isoformat(),
        (today + timedelta(days=93)).isoformat(),
    ):
        data = {"csrf_token": token, "reason": "系统故障", "until": until}
        probe.refused(url, data, f"until={until[:12]!r}", shown)
    good = (today + timedelta(days=5)).isoformat()
    for reason in ("", "   ", "\x00", "x" * 100_000):
        data = {"csrf_token": token, "reason": reason, "until": good}
        probe.refused(url, data, f"reason={reason[:12]!r}", shown)
    for name in ("reason", "until"):
        data = {"csrf_token": token, "reason": "x", "until": good}
        del data[name]
        probe.refused(url, data, f"file as {name}", shown, files=file_part(name))
    data = {"csrf_token": token, "reason": "x", "until": good}
    for bad in (f"/t/d4/reports/{world.nov}/c/nope/exception", "/t/d4/reports/0/c/r63/exception"):
        probe.refused(bad, data, "unknown", (), (404,))
    token = as_user(MANAGER)
    data = {"csrf_token": token, "reason": "x", "until": good}
    probe.refused(f"/t/r63/reports/{world.nov}/c/r63/exception", data, "centre", (), (403, 404))
    probe.check()


# --- 4. the export request ---------------------------------------------------------------


def test_export_requests_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/reports/exports"
    cannot = said("This export cannot be made: see the marked fields.")
    rollup = {"csrf_token": token, "kind": "rollup", "form": str(world.form_id)}
    rollup.update({"from": "2028-11", "to": "2028-12"})
    for kind in ("", "x", SCRIPT, LONG, "\x00", "rollup\x00x", "ROLLUP"):
        probe.refused(url, {**rollup, "kind": kind}, f"kind={kind[:12]!r}", (cannot,))
    # (Full-width "１" is form 1, "２０２８１１" is 2028-11, a lone NUL under "under" or
    # "centre" is nothing typed: the own tenant.  Those are taken.)
    ids = [v for v in IDS if v != "１"]
    bad_months = [m for m in MONTHS if m != "２０２８１１"]
    for form in (*ids, "", "2147483648", "-2147483649", str(world.x2_form)):
        probe.refused(url, {**rollup, "form": form}, f"form={form[:12]!r}", (cannot,))
    for name in ("from", "to"):
        for month in (*bad_months, "", "2028-11-01", "1999-12", "2028-1"):
            label = f"{name}={month[:12]!r}"
            probe.refused(url, {**rollup, name: month}, label, (cannot,))
    probe.refused(url, {**rollup, "from": "2000-01", "to": "2100-12"}, "too long", (cannot,))
    probe.refused(url, {**rollup, "from": "2028-12", "to": "2028-11"}, "reversed", (cannot,))
    for under in ("nope", SCRIPT, "x" * 5000, "\x00nope", "../d4"):
        probe.refused(url, {**rollup, "under": under}, f"under={under[:12]!r}", (cannot,))
    one = {"csrf_token": token, "kind": "submission", "period_id": str(world.nov), "centre": "r63"}
    for period in (*ids, "", "2147483648", str(world.x2_period)):
        label = f"period={period[:12]!r}"
        probe.refused(url, {**one, "period_id": period}, label, (cannot,))
    for centre in ("nope", SCRIPT, "x" * 5000, "\x00nope", "d4x"):
        probe.refused(url, {**one, "centre": centre}, f"centre={centre[:12]!r}", (cannot,))
    for name in ("kind", "form", "from", "to"):
        data = {k: v for k, v in rollup.items() if k != name}
        probe.refused(url, data, f"file as {name}", (cannot,), files=file_part(name))
    data = {k: v for k, v in one.items() if k != "period_id"}
    probe.refused(url, data, "file as period_id", (cannot,), files=file_part("period_id"))
    # A file as "under" or "centre" is nothing typed there: the own tenant (taken).
    for name, body in (("under", rollup), ("centre", one)):
        data = {k: v for k, v in body.items() if k != name}
        response = probe.send("POST", url, f"file as {name}", data=data, files=file_part(name))
        if response is not None and response.status_code != 303:
            probe.problems.append(f"file as {name}: {response.status_code}")
    # A centre asks for another centre's report, or a roll-up above itself.
    token = as_user(MANAGER)
    mine = {**one, "csrf_token": token}
    probe.refused("/t/r63/reports/exports", {**mine, "centre": "xb"}, "other centre", (cannot,))
    others = {**rollup, "csrf_token": token, "under": "d4"}
    probe.refused("/t/r63/reports/exports", others, "under the division", (cannot,))
    probe.refused("/t/xb/reports/exports", mine, "other tenant", (), (403, 404))
    probe.check()


# --- 5. the parser behind every number box ------------------------------------------------


def test_every_field_type_parses_hostile_text_without_failing() -> None:
    from app.reports.definition import FieldDef
    from app.reports.values import parse

    kinds = {
        "integer": FieldDef(key="n", label="n", type="integer"),
        "decimal": FieldDef(key="d", label="d", type="decimal"),
        "percent": FieldDef(key="p", label="p", type="percent"),
        "text": FieldDef(key="t", label="t", type="text"),
        "choice": FieldDef(key="c", label="c", type="choice", choices=["甲", "乙"]),
        "yesno": FieldDef(key="y", label="y", type="yesno"),
    }
    for kind, f in kinds.items():
        for value in (*BAD_NUMBERS, *ODD_NUMBERS, "", None, 12, "1e-999999999"):
            reliability.record("hostile_inputs")
            stored, problem = parse(f, value)
            assert isinstance(stored, str)
            if kind in ("integer", "decimal", "percent") and value in BAD_NUMBERS:
                assert problem, (kind, value)
            if not problem and kind in ("integer", "decimal", "percent") and stored:
                assert len(stored) <= 20, (kind, value, stored[:40])
    assert parse(kinds["integer"], "１２３") == ("123", None)
    assert parse(kinds["integer"], "-0") == ("0", None)
    assert parse(kinds["integer"], "12,345") == ("12345", None)
    assert parse(kinds["decimal"], "0e999999999")[0] == "0"
