"""Hostile bodies on issue 7's POST routes: wrong types, missing fields, unknown ids, 100k
notes, bad dates, odd scores, fake uploads, hostile assessment formulas, invalid yellow
margins, a checklist of 1000 items.  Each is refused with a 4xx and a message (never a
5xx), and the row counts of every table the new routes write are exactly as they were
(tests/oversight_hostile/probe.py counts them as the system, inside db.read)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from markupsafe import escape

from app.web.i18n import gettext
from tests.oversight_hostile.probe import (
    CLERK,
    DIGITS,
    HUGE,
    LONG,
    MANAGER,
    PDF,
    SCRIPT,
    SUPERVISOR,
    Probe,
    summary,  # noqa: F401  (prints the count of hostile requests at the end)
    world_fixture,  # noqa: F401  (the ``world`` fixture)
)

TEXT_AS_PNG = ("photo.png", b"just some text, not an image at all\n" * 20, "image/png")
EMPTY_PNG = ("empty.png", b"", "image/png")
WRONG_PDF = ("scan.pdf", b"%PDX-1.4 not really a pdf\n" + b"x" * 200, "application/pdf")
HTML_AS_JPG = ("a.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
FAKES = {
    "text as png": TEXT_AS_PNG,
    "empty": EMPTY_PNG,
    "wrong pdf": WRONG_PDF,
    "html": HTML_AS_JPG,
}
# Not numbers a form can take.
BAD_NUMBERS = ("NaN", "1e999", "Infinity", "abc", "", "²", HUGE, DIGITS, "-1", SCRIPT, "12abc")
BAD_DATES = ("2026-13-45", "0000-00-00", "2026-02-30", "２０２６-０１-０１", LONG[:5000], SCRIPT)
# Never a lock version ("１" is read as 1, like every full-width digit).
JUNK_LOCKS = ("", "abc", "-1", "²", HUGE, DIGITS, "2147483648", "1.0")


def said(message: str, **variables: Any) -> str:
    return str(escape(gettext(message, **variables)))


# --- inspections (d4's supervisor conducts, xa's manager acknowledges) -------------------


def test_starting_an_inspection_refuses_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/inspections/new"
    good = {
        "csrf_token": token,
        "centre": "xa",
        "checklist": str(world.checklist),
        "planned_on": "2026-11-20",
        "origin": "planned",
    }
    tries: list[tuple[str, dict[str, Any]]] = [
        ("nothing", {"csrf_token": token}),
        *(
            (f"centre {v[:12]!r}", {**good, "centre": v})
            for v in ("", "nope", "d4", SCRIPT, "x" * 5000)
        ),
        *((f"checklist {v[:12]!r}", {**good, "checklist": v}) for v in BAD_NUMBERS),
        ("checklist unknown", {**good, "checklist": "2147483647"}),
        *((f"date {v[:12]!r}", {**good, "planned_on": v}) for v in BAD_DATES),
        ("origin", {**good, "planned_on": "", "origin": SCRIPT}),
        ("inspectors", {**good, "planned_on": "", "inspectors": ["abc", HUGE, "²"]}),
        ("draw", {**good, "planned_on": "", "draw": "²"}),
        ("client key", {**good, "planned_on": "", "client_key": LONG}),
    ]
    for label, data in tries:
        probe.refused(url, data, label)
    probe.check()


SCORES_REFUSED = ("NaN", "1e999", "-1", "10.55", "3.01", "2.55", "abc", SCRIPT, DIGITS, "0x1", "∞")


def test_saving_a_section_refuses_hostile_scores(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"/t/d4/inspections/{world.open_inspection}/save"
    base = {"csrf_token": token, "section": "0", "lock_version": "0", "go": "stay"}
    for value in SCORES_REFUSED:  # h1: at most 3, h2: at most 2.5
        probe.refused(url, {**base, "score_h1": value}, f"score {value[:12]!r}")
        probe.refused(
            url,
            {**base, "score_h2": value},
            f"json score {value[:12]!r}",
            headers={"Accept": "application/json"},
        )
    probe.refused(url, {**base, "note_h1": LONG}, "long note")
    for section in ("", "abc", "-1", "2", "99", HUGE, DIGITS, "²", "٣"):
        probe.refused(
            url, {**base, "section": section, "score_h1": "1"}, f"section {section!r:.12}", (404,)
        )
    # "１" is section 1 (full-width digits are read as typed): the stale lock decides.
    probe.refused(url, {**base, "section": "１", "score_d1": "1"}, "section １", (409,))
    # Odd but acceptable values: taken, or refused — never a 5xx.
    for value in ("-0", "３", "2,5", " 1 ", "0e999"):
        for lock in ("0", "abc", HUGE, "²"):
            response = probe.send(
                "POST",
                url,
                f"odd {value!r}",
                data={**base, "score_h1": value, "lock_version": lock},
            )
            if response is not None and response.status_code not in (303, 409, 422):
                probe.problems.append(f"score {value!r} lock {lock!r}: {response.status_code}")
    probe.check()


def test_photos_refuse_fake_uploads(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"/t/d4/inspections/{world.open_inspection}/photos"
    for label, upload in FAKES.items():
        for accept in ("text/html", "application/json"):
            probe.refused(
                url,
                {"csrf_token": token, "item_key": "h1"},
                f"{label} ({accept})",
                files={"file": upload},
                headers={"Accept": accept},
            )
    good = ("h1.png", TEXT_AS_PNG[1], "image/png")
    for item in ("", "nope", SCRIPT, LONG[:3000]):
        probe.refused(
            url,
            {"csrf_token": token, "item_key": item},
            f"item {item[:12]!r}",
            files={"file": good},
        )
    probe.refused(url, {"csrf_token": token, "item_key": "h1"}, "no file")
    probe.refused(url, {"csrf_token": token, "item_key": "h1", "file": "text"}, "text as file")
    # The plain form's photos come with a save: a fake one is refused with the section.
    save = f"/t/d4/inspections/{world.open_inspection}/save"
    for label, upload in FAKES.items():
        if label == "empty":  # an empty file part is "no photo chosen"
            continue
        probe.refused(
            save,
            {"csrf_token": token, "section": "0", "lock_version": "0"},
            f"save with {label}",
            files={"photo_h1": upload},
        )
    probe.check()


def test_submitting_refuses_hostile_findings(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"/t/d4/inspections/{world.open_inspection}/submit"
    base = {"csrf_token": token, "lock_version": "0", "summary": "总体"}
    rows: list[tuple[str, dict[str, str]]] = [
        *((f"days {v[:12]!r}", {"finding_days_0": v}) for v in (*BAD_NUMBERS, "0", "9999") if v),
        ("item", {"finding_item_0": SCRIPT}),
        ("long text", {"finding_text_0": LONG}),
        ("odd index", {"finding_text_²": "问题", "finding_days_²": "5", "finding_days_0": "-5"}),
        ("huge index", {f"finding_text_{HUGE}": "问题", "finding_days_0": "-5"}),
    ]
    for label, values in rows:
        data = {**base, "finding_text_0": "台账不全", "finding_item_0": "h2", **values}
        probe.refused(url, data, label, (422,), (said("Check the findings marked below."),))
    probe.refused(
        url,
        {**base, "summary": LONG, "finding_text_0": "x", "finding_days_0": "-1"},
        "long summary",
    )
    for lock in (HUGE, DIGITS, "²", "-1"):
        data = {**base, "lock_version": lock, "finding_text_0": "x", "finding_days_0": "-1"}
        probe.refused(url, data, f"lock {lock[:12]!r}")
    # A submitted inspection: a resent submit is answered like the first one (303) and
    # changes nothing; an unknown one is a 404.
    done = f"/t/d4/inspections/{world.inspection}/submit"
    probe.refused(done, {**base, "finding_text_0": "x"}, "again", (303, 409, 422))
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(f"/t/d4/inspections/{bad}/submit", base, bad, (404,))
    probe.check()


def test_acknowledging_refuses_hostile_notes(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/xa/inspections/{world.inspection}/acknowledge"
    probe.refused(url, {"csrf_token": token, "note": LONG}, "long note")
    probe.refused(
        f"/t/xa/inspections/{world.open_inspection}/acknowledge",
        {"csrf_token": token},
        "open",
        (404, 409, 422),
    )
    token = as_user(CLERK)
    Probe(client, CLERK).refused(url, {"csrf_token": token}, "clerk", (403,))
    probe.check()


# --- checklists and draws (d4 defines) ----------------------------------------------------


def editor(token: str, items: int = 1, **over: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "code": "hostile-new",
        "title": "检查表",
        "kind": "centre",
        "effective_from": (date.today() + timedelta(days=400)).isoformat(),
        "change_note": "",
        "s0-key": "hw",
        "s0-title": "硬件",
    }
    for j in range(items):
        data.update({f"s0-{j}-key": f"h{j}", f"s0-{j}-text": f"标牌 {j}", f"s0-{j}-max": "1"})
    data.update(over)
    return data


MAX_SCORES_REFUSED = ("NaN", "1e999", "-0", "0", "-1", "10.555", "101", "abc", SCRIPT, DIGITS, "²")


def test_checklist_editor_refuses_hostile_definitions(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    for url in ("/t/d4/checklists/new", f"/t/d4/checklists/{world.checklist}/edit"):
        tries: list[tuple[str, dict[str, str]]] = [
            ("61 items", editor(token, 61)),
            ("no items", {k: v for k, v in editor(token).items() if not k.startswith("s0-0")}),
            *((f"max {v[:12]!r}", editor(token, **{"s0-0-max": v})) for v in MAX_SCORES_REFUSED),
            *((f"date {v[:12]!r}", editor(token, effective_from=v)) for v in BAD_DATES),
            ("long title", editor(token, title=LONG)),
            ("long text", editor(token, **{"s0-0-text": LONG})),
            ("long note", editor(token, change_note=LONG)),
            ("bad key", editor(token, **{"s0-0-key": SCRIPT})),
            ("duplicate keys", editor(token, 2, **{"s0-1-key": "h0"})),
            ("99 sections", {**editor(token), **{f"s{i}-title": "节" for i in range(99)}}),
        ]
        if url.endswith("/new"):
            tries += [
                ("no code", editor(token, code="")),
                ("code", editor(token, code=SCRIPT)),
                ("kind", editor(token, kind=SCRIPT)),
                ("used code", editor(token, code="test-inspection")),
            ]
        else:  # a stale or junk ``expected`` version with a changed definition
            tries += [
                (f"expected {v[:12]!r}", editor(token, 2, expected=v))
                for v in ("0", "²", "１", HUGE, DIGITS, "abc")
            ]
        for label, data in tries:
            probe.refused(url, data, label, (409, 422))
        # 1000 items are more than 1000 form fields, which Starlette's form parser refuses:
        # the CSRF check cannot read its token (403), nothing is written.
        probe.refused(url, editor(token, 1000), "1000 items", (400, 403, 413, 422))
        # The row buttons re-render the editor; a hostile one never fails.
        for more in ("item-²", "item-99", f"item-{HUGE}", "item-", "section", SCRIPT):
            response = probe.send("POST", url, f"more {more!r}", data=editor(token, more=more))
            if response is not None and response.status_code not in (200, 422):
                probe.problems.append(f"{url} more={more!r}: {response.status_code}")
    # Retiring: junk actions; another division's checklist or none at all.
    url = f"/t/d4/checklists/{world.checklist}"
    for action in ("", SCRIPT, "retire\x00", LONG[:3000]):
        probe.refused(
            url, {"csrf_token": token, "action": action}, f"action {action[:12]!r}", (404, 422)
        )
    for bad in ("2147483647", HUGE, "abc", "-1", "²"):
        probe.refused(f"/t/d4/checklists/{bad}/edit", editor(token), f"edit {bad}", (404,))
    probe.check()


def test_draws_refuse_hostile_asks(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/draws"
    centres = {
        "csrf_token": token,
        "kind": "centres",
        "month": "2027-05",
        "centres": "1",
        "inspectors": "1",
    }
    cases = {
        "csrf_token": token,
        "kind": "cases",
        "centre": "xa",
        "date_from": "2026-01-01",
        "date_to": "2026-01-31",
        "cases": "1",
    }
    tries: list[tuple[str, dict[str, str]]] = [
        *(
            (f"month {v[:12]!r}", {**centres, "month": v})
            for v in ("2026-13", "0000-00", "", SCRIPT, "2026-1-1")
        ),
        *((f"centres {v[:12]!r}", {**centres, "centres": v}) for v in BAD_NUMBERS if v),
        *((f"inspectors {v[:12]!r}", {**centres, "inspectors": v}) for v in BAD_NUMBERS if v),
        ("seed", {**centres, "seed": LONG}),
        *((f"from {v[:12]!r}", {**cases, "date_from": v}) for v in BAD_DATES),
        ("reversed", {**cases, "date_from": "2026-02-01", "date_to": "2026-01-01"}),
        (
            "huge range",
            {**cases, "date_from": "0001-01-01", "date_to": "9999-12-31", "cases": "abc"},
        ),
        *((f"case centre {v[:12]!r}", {**cases, "centre": v}) for v in ("nope", "d4", SCRIPT, "")),
        *((f"cases {v[:12]!r}", {**cases, "cases": v}) for v in BAD_NUMBERS if v),
        ("case seed", {**cases, "case_seed": LONG}),
    ]
    for label, data in tries:
        probe.refused(url, data, label)
    for kind in ("", "nope", SCRIPT):
        probe.refused(url, {**centres, "kind": kind}, f"kind {kind!r:.12}", (404, 422))
    probe.check()


# --- rectifications: evidence, verification, 督办 -----------------------------------------


def test_rectification_actions_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    item = f"/t/xa/rectifications/{world.rectification}"
    probe.refused(f"{item}/evidence", {"csrf_token": token, "note": LONG}, "long note")
    probe.refused(f"{item}/evidence", {"csrf_token": token}, "nothing")
    for label, upload in FAKES.items():
        probe.refused(
            f"{item}/evidence",
            {"csrf_token": token, "note": "已整改"},
            label,
            files={"files": upload},
        )
    eleven = [("files", (f"{i}.pdf", PDF, "application/pdf")) for i in range(11)]
    probe.refused(
        f"{item}/evidence", {"csrf_token": token, "note": "已整改"}, "11 files", files=eleven
    )
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(
            f"/t/xa/rectifications/{bad}/evidence", {"csrf_token": token, "note": "x"}, bad, (404,)
        )
    probe.refused(
        f"{item}/verify", {"csrf_token": token, "decision": "accept"}, "manager verifies", (403,)
    )
    probe.check()

    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    item = f"/t/d4/rectifications/{world.rectification}"
    for label, data in (
        ("no decision", {}),
        ("decision", {"decision": SCRIPT}),
        ("decision list", {"decision": ["accept", "reject"], "note": LONG}),
        ("long note", {"decision": "accept", "note": LONG}),
        ("reject without note", {"decision": "reject", "note": "  "}),
        ("reject long note", {"decision": "reject", "note": LONG}),
    ):
        probe.refused(f"{item}/verify", {"csrf_token": token, **data}, label)
    case = f"/t/d4/cases/{world.case}/supervise"
    for days in ("-1", "0", "99", "21", "abc", HUGE, DIGITS, "1e999", "NaN", "²"):
        probe.refused(
            case,
            {"csrf_token": token, "days": days, "note": "限期"},
            f"days {days[:12]!r}",
            (409, 422),
        )
    probe.refused(case, {"csrf_token": token, "days": "3", "note": LONG}, "long note", (409, 422))
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(
            f"/t/d4/cases/{bad}/supervise", {"csrf_token": token, "days": "3"}, bad, (404,)
        )
    probe.check()


# --- circulars and documents --------------------------------------------------------------


def test_circulars_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/circulars/new"
    good = {
        "csrf_token": token,
        "title": "通报",
        "body": "正文",
        "recipients": "chosen",
        "centre": "0",
    }
    tries: list[tuple[str, Any, dict[str, Any]]] = [
        ("nothing", {"csrf_token": token}, {}),
        ("no title", {**good, "title": "  "}, {}),
        ("long title", {**good, "title": LONG}, {}),
        ("long body", {**good, "body": LONG}, {}),
        *(
            (f"centre {v[:12]!r}", {**good, "centre": v}, {})
            for v in ("abc", HUGE, DIGITS, "-1", "²", "2147483647", SCRIPT)
        ),
        ("link", {**good, "link": "inspection:" + HUGE, "title": ""}, {}),
        *((label, {**good, "title": ""}, {"files": up}) for label, up in FAKES.items()),
        *(
            (f"fake {label}", {**good, "recipients": "all"}, {"files": up})
            for label, up in FAKES.items()
            if label != "empty"
        ),
        (
            "six files",
            {**good, "recipients": "all"},
            [("files", (f"{i}.pdf", PDF, "application/pdf")) for i in range(6)],
        ),
    ]
    for label, data, files in tries:
        probe.refused(url, data, label, files=files or None)
    probe.check()
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    ack = f"/t/xa/circulars/{world.circular}/acknowledge"
    probe.refused(ack, {"csrf_token": token, "note": LONG}, "long note")
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(f"/t/xa/circulars/{bad}/acknowledge", {"csrf_token": token}, bad, (404,))
    probe.check()


def test_documents_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = "/t/xa/documents/new"
    pdf = {"file": ("制度.pdf", PDF, "application/pdf")}
    good = {"csrf_token": token, "kind": "rules", "title": "制度汇编", "edition": "2026"}
    tries: list[tuple[str, dict[str, Any], Any]] = [
        ("nothing", {"csrf_token": token}, None),
        ("no file", good, None),
        ("kind", {**good, "kind": SCRIPT}, pdf),
        ("no title", {**good, "title": ""}, pdf),
        ("long title", {**good, "title": LONG}, pdf),
        ("long edition", {**good, "edition": LONG}, pdf),
        *(
            (f"department {v[:12]!r}", {**good, "kind": "authorisation", "department": v}, pdf)
            for v in ("abc", HUGE, "-1", "²", "2147483647")
        ),
        *(
            (f"window {v[:12]!r}", {**good, "kind": "authorisation", "window": v}, pdf)
            for v in ("abc", HUGE, "-1", "²", "2147483647")
        ),
        *((f"from {v[:12]!r}", {**good, "valid_from": v}, pdf) for v in BAD_DATES),
        (
            "until before from",
            {
                **good,
                "kind": "authorisation",
                "valid_from": "2026-05-01",
                "valid_until": "2026-01-01",
            },
            pdf,
        ),
        ("long granted by", {**good, "kind": "authorisation", "granted_by": LONG}, pdf),
        *((label, good, {"file": up}) for label, up in FAKES.items() if label != "empty"),
    ]
    for label, data, files in tries:
        probe.refused(url, data, label, files=files)
    doc = f"/t/xa/documents/{world.doc}"
    for lock in JUNK_LOCKS:
        probe.refused(doc, {**good, "lock_version": lock}, f"lock {lock[:12]!r}", (409, 422))
        probe.refused(
            doc,
            {"csrf_token": token, "action": "retire", "lock_version": lock},
            f"retire lock {lock[:12]!r}",
            (409, 422),
        )
    probe.refused(doc, {**good, "lock_version": "0", "title": LONG}, "long title", (409, 422))
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(f"/t/xa/documents/{bad}", good, bad, (404,))
    probe.check()


# --- work logs (xa's clerk writes, xa's manager reviews) ---------------------------------


def test_work_logs_refuse_hostile_bodies(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(CLERK)
    probe = Probe(client, CLERK)
    url = f"/t/xa/worklogs/new?window={world.window}&day={world.day}"
    good = {"csrf_token": token, "attendance_0": "present", "offline": "0"}
    tries: list[tuple[str, dict[str, str]]] = [
        ("attendance", {**good, "attendance_0": SCRIPT}),
        ("no attendance", {"csrf_token": token, "offline": "0"}),
        *(
            (f"offline {v[:12]!r}", {**good, "offline": v})
            for v in ("NaN", "1e999", "-1", "10001", "abc", HUGE, DIGITS, "²", "1.5")
        ),
        ("long note", {**good, "note_0": LONG}),
        ("long notes", {**good, "note": LONG}),
        ("long style", {**good, "style_notes": LONG}),
        ("long discipline", {**good, "discipline_notes": LONG}),
    ]
    for label, data in tries:
        probe.refused(url, data, label)
    # No window: the window picker (200); a day that is no day: 404, never today's log.
    for query in (f"window={HUGE}", "window=²", f"window={DIGITS}"):
        probe.refused(f"/t/xa/worklogs/new?{query}", good, query[:20], (200, 404))
    for day in ("2026-02-30", "9999-12-31", "0001-01-01", "２０２６-０１-０１", SCRIPT):
        query = f"window={world.window}&day={day}"
        probe.refused(f"/t/xa/worklogs/new?{query}", good, query, (404, 422))
    log = f"/t/xa/worklogs/{world.log}"
    for lock in JUNK_LOCKS:
        probe.refused(log, {**good, "lock_version": lock}, f"lock {lock[:12]!r}", (409, 422))
    probe.refused(log, {**good, "lock_version": "0", "note": LONG}, "long note", (409, 422))
    probe.check()
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    for lock in JUNK_LOCKS:
        probe.refused(
            f"{log}/review",
            {"csrf_token": token, "comment": "好", "lock_version": lock},
            f"review lock {lock[:12]!r}",
            (409, 422),
        )
    probe.refused(
        f"{log}/review",
        {"csrf_token": token, "comment": LONG, "lock_version": "0"},
        "long comment",
        (409, 422),
    )
    for bad in ("2147483647", "2147483648", HUGE):
        probe.refused(f"/t/xa/worklogs/{bad}/review", {"csrf_token": token}, bad, (404,))
    probe.check()


# --- assessment rules and the yellow margin (d4) -----------------------------------------


def scheme(token: str, **row: str) -> dict[str, str]:
    data = {"csrf_token": token, "note": "", "lock_version": ""}
    component = {
        "key": "ontime",
        "label": "按时办结",
        "applies": "both",
        "expression": "on_time_rate",
        "weight": "50",
    }
    component.update(row)
    data.update({f"c0_{k}": v for k, v in component.items()})
    return data


FORMULAS = (
    "9**9**9",
    "(" * 500,
    "-(" * 40 + "1" + ")" * 40,
    "-" * 499 + "1",
    "not " * 120 + "1",
    "__class__",
    "on_time_rate.__class__",
    "on_time_rate.__class__.__mro__",
    "().__class__.__bases__[0]",
    "__import__('os')",
    "open('/etc/passwd')",
    "lambda: 1",
    "[1] * 999999999",
    "'a' * 999999999",
    "nobody_knows_this_name",
    "1e999",
    "x" * 5000,
    SCRIPT,
    "1 +",
    "\x00",
)


def test_assessment_rules_refuse_hostile_formulas(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/assessment/rules"
    tries: list[tuple[str, dict[str, str]]] = [
        *((f"formula {f[:16]!r}", scheme(token, expression=f)) for f in FORMULAS),
        *(
            (f"weight {v[:12]!r}", scheme(token, weight=v))
            for v in ("NaN", "1e999", "-0", "0", "10.555", "101", "abc", DIGITS, "²")
        ),
        ("applies", scheme(token, applies=SCRIPT)),
        ("window formula", scheme(token, applies="window", expression="inspection_percent")),
        ("no key", scheme(token, key="")),
        ("long label", scheme(token, label=LONG)),
        ("key", scheme(token, key=SCRIPT)),
        (
            "31 rows",
            {
                **scheme(token, expression="1 +"),
                **{f"c{i}_{f}": "x" for i in range(1, 31) for f in ("key", "label", "expression")},
            },
        ),
    ]
    for label, data in tries:
        probe.refused(url, data, label, (422,))
    for lock in ("²", "１", "abc", HUGE, DIGITS, "-1"):
        probe.refused(
            url,
            {**scheme(token, expression="(" * 500), "lock_version": lock},
            f"lock {lock[:12]!r}",
            (409, 422),
        )
    probe.check()


def test_yellow_margin_refuses_hostile_values(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = "/t/d4/supervision/settings"
    for days in ("-1", "99", "11", "abc", "", "NaN", "1e999", "1.5", HUGE, DIGITS, "²", SCRIPT):
        probe.refused(url, {"csrf_token": token, "yellow_days": days}, f"N {days[:12]!r}")
    probe.refused(url, {"csrf_token": token, "yellow_days": "3", "note": LONG}, "long note")
    for lock in ("abc", "²", DIGITS, "1.5"):
        probe.refused(
            url,
            {"csrf_token": token, "yellow_days": "-1", "lock_version": lock},
            f"lock {lock[:12]!r}",
        )
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    probe.refused(
        "/t/xa/supervision/settings", {"csrf_token": token, "yellow_days": "3"}, "manager", (403,)
    )
    probe.check()


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (CLERK, "/t/xa/documents/new"),
        (CLERK, "/t/xa/circulars/new"),
        (MANAGER, "/t/xa/checklists/new"),
        (MANAGER, "/t/xa/draws"),
        (MANAGER, "/t/xa/assessment/rules"),
        (CLERK, "/t/xa/inspections/new"),
    ],
)
def test_readers_without_the_capability_get_403_or_404(client, as_user, world, who, url) -> None:  # type: ignore[no-untyped-def]
    token = as_user(who)
    probe = Probe(client, who)
    probe.refused(
        url, {"csrf_token": token, "title": SCRIPT, "kind": "centres"}, "no capability", (403, 404)
    )
    probe.check()
