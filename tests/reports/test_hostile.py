"""Hostile input on the monthly reports (issue 6): "Bad input gets a clear message in the
form, the user's input kept, and no 500; nothing half-written is left in the database."

1. Every GET route of the reports (read from the app's own route list) as r63's manager,
   d4's supervisor and an anonymous visitor, with hostile values on every query parameter
   the views read and on the path ids: never a 5xx, ``<script>`` never back unescaped.
2. Every action of the centre's form with a valid CSRF token and hostile bodies: never a
   5xx, the designed refusal (422, or 409 for a stale ``lock_version``, 403/404 where that
   is the answer) with its message and the input kept, and the row counts of the reports
   tables exactly as they were; a draft keeps odd values without failing.
(The review, exception and export POSTs: test_hostile_review.py; the report-form editor:
test_hostile_editor.py; the probe: hostile.py.)  Each module's finaliser prints how many
hostile requests were sent and how many were 5xx.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from markupsafe import escape

from app.reports import filing
from tests.reports.helpers import filled, open_period, run, scope_of
from tests.reports.hostile import (
    BAD_NUMBERS,
    CLERK,
    DEC,
    DIGITS,
    FORM_TYPE,
    IDS,
    LONG,
    MANAGER,
    MONTHS,
    ODD_NUMBERS,
    PATH_IDS,
    PREFIXES,
    SCRIPT,
    SUPERVISOR,
    Probe,
    World,
    lock_of,
    said,
    summary,  # noqa: F401  (prints the count of hostile requests at the end)
    world_fixture,  # noqa: F401  (the ``world`` fixture)
)
from tests.security.harness import app_endpoints

# The query parameters each GET view reads.
GET_PARAMS: dict[str, tuple[str, ...]] = {
    "/t/{slug}/reports": (),
    "/t/{slug}/reports/{period_id}": ("saved",),
    "/t/{slug}/reports/{period_id}/export.xlsx": (),
    "/t/{slug}/reports/grid": ("form", "from", "to", "under"),
    "/t/{slug}/reports/{period_id}/c/{centre}": ("done",),
    "/t/{slug}/reports/{period_id}/c/{centre}/export.xlsx": (),
    "/t/{slug}/reports/rollup": ("form", "from", "to", "under"),
    "/t/{slug}/reports/rollup/{field}": ("form", "from", "to", "under", "centre"),
    "/t/{slug}/reports/exports/{job_id}": (),
    "/t/{slug}/reports/exports/{job_id}/file": (),
    "/t/{slug}/report-forms": (),
    "/t/{slug}/report-forms/new": (),
    "/t/{slug}/report-forms/{form_id}": ("done",),
    "/t/{slug}/report-forms/{form_id}/v/{number}": (),
}
KIND = {"form": "id", "from": "month", "to": "month", "under": "slug", "centre": "slug"}
VALUES: dict[str, tuple[str, ...]] = {
    "id": IDS,
    "month": MONTHS,
    "slug": ("xb", "nope", SCRIPT, "\x00", "x" * 5000, "../d4", "R63"),
    "choice": (SCRIPT, "x" * 5000, "\x00"),
}
AT_ONCE = ("A" * 5000, SCRIPT, "\x00", "", "-1", "²²²²²²", "99999999999999999999")

# --- 1. every GET route with hostile query strings ---------------------------------------


@functools.cache
def report_get_routes() -> list[Any]:
    return [
        e
        for e in app_endpoints()
        if "GET" in e.methods and any(e.path.startswith(p) for p in PREFIXES)
    ]


def test_every_reports_get_route_has_its_parameters_listed() -> None:
    """A new GET route of the reports must say here which query parameters it reads."""
    assert {e.path for e in report_get_routes()} == set(GET_PARAMS)


def _path_values(who: str, w: World) -> dict[str, str]:
    return {
        "slug": "r63" if who == MANAGER else "d4",
        "period_id": str(w.nov),
        "centre": "r63",
        "field": "registered",
        "job_id": str(w.own_job),
        "form_id": str(w.form_id),
        "number": "1",
    }


BAD_PATH = {
    "period_id": PATH_IDS,
    "job_id": ("2147483648", "-1", "abc", "0"),
    "form_id": ("2147483648", "-1", "abc", "²", DIGITS),
    "number": ("2147483648", "-1", "abc", "0", "²"),
    "centre": ("xb", "nope", SCRIPT, "%00", "x" * 3000),
    "field": ("__class__", "nope", SCRIPT, "%00", "x" * 3000, "problems"),
}


def _walk(probe: Probe, w: World, who: str) -> None:
    values = _path_values(who, w)
    for endpoint in report_get_routes():
        names = GET_PARAMS[endpoint.path]
        url = endpoint.url(values)
        for value in AT_ONCE if who != "anonymous" else AT_ONCE[:3]:
            probe.get(url, [(n, value) for n in (*names, "zz<b>")], f"all={value[:20]!r}")
        repeated = [(n, v) for n in names for v in (SCRIPT, "-5", "x" * 1000, "")]
        probe.get(url, repeated, "repeated")
        headers = {"HX-Request": "true", "HX-Target": "content"}
        probe.get(url, [(n, SCRIPT) for n in names], "htmx", headers=headers)
        if who == "anonymous":
            continue
        for name in names:
            extra = (str(w.x2_form),) if name == "form" else ()
            for value in (*VALUES[KIND.get(name, "choice")], *extra):
                probe.get(url, [(name, value)], f"{name}={value[:20]!r}")
        if {"from", "to"} <= set(names):  # a reversed, a huge and an ancient range
            for first, last in (("2100-12", "2000-01"), ("1990-01", "2200-12"), ("0001", "9999")):
                probe.get(url, [("from", first), ("to", last)], f"{first}..{last}")
        mine = {"period_id": (str(w.x2_period),), "form_id": (str(w.x2_form),)}
        for name in endpoint.params:
            for bad in (*BAD_PATH.get(name, ()), *mine.get(name, ())):
                probe.get(endpoint.url({**values, name: bad}), [], f"{name}={bad[:20]!r}")
    # Another tenant's job, a job of the own tenant's colleague: the same 404.
    slug = values["slug"]
    for path in (f"/t/{slug}/reports/exports/{w.other_job}", f"/t/xb/reports/exports/{w.own_job}"):
        response = probe.get(path, [], "other job")
        if response is not None and response.status_code not in (403, 404, 303):
            probe.problems.append(f"{path}: {response.status_code}")


@pytest.mark.parametrize("who", [MANAGER, SUPERVISOR, "anonymous"])
def test_get_routes_survive_hostile_query_strings(client, as_user, world, who) -> None:  # type: ignore[no-untyped-def]
    if who != "anonymous":
        as_user(who)
    probe = Probe(client, who)
    _walk(probe, world, who)
    probe.check()


# --- 2. the centre's form ----------------------------------------------------------------


def _report_post(token: str, action: str, lock: int | str, **values: str) -> dict[str, Any]:
    report = run(filing.load(run(scope_of(MANAGER, "r63")), run(open_period(DEC))["id"]))
    data: dict[str, Any] = {"csrf_token": token, "action": action, "lock_version": str(lock)}
    data.update({f"f_{k}": v for k, v in filled(report).items()})
    data.update({f"comment_{r.key}": "说明" for r in report.definition.rules})
    data.update({f"f_{k}": v for k, v in values.items()})
    return data


NUMBER_FIELDS = ("staff", "registered", "on_time_rate")  # integer, sourced integer, percent
NOT_SAVED = said(
    "Not saved: someone else saved this report in the meantime. Reload the page;"
    " what you typed is kept in this browser."
)
NOT_SUBMITTED = said("The report cannot be submitted yet: see the marked fields.")
CONFLICT = said(
    "Someone else saved this report in the meantime. What you typed is still in"
    " the form below: check it, then save again to replace their version."
)


def test_submitting_hostile_values_is_refused_with_the_input_kept(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/r63/reports/{world.dec}"
    lock = lock_of(world.dec)
    for key in NUMBER_FIELDS:
        for value in BAD_NUMBERS:
            if value == "\x00":  # nothing typed: fine where the field is optional
                continue
            data = _report_post(token, "submit", lock, **{key: value})
            response = probe.refused(url, data, f"{key}={value[:16]!r}", (NOT_SUBMITTED,))
            shown = str(escape(value.replace("\x00", "")[:4000]))
            if response is not None and shown and f'value="{shown}"' not in response.text:
                probe.problems.append(f"{key}={value[:16]!r}: the typed value is not kept")
    for key, value in (
        ("hours", SCRIPT),
        ("hours", "\x00"),
        ("guide_public", "maybe"),
        ("guide_public", "是"),
        ("problems", LONG),  # longer than a text field holds
        ("staff", "   "),  # required
        ("staff", "\x00"),
        ("ab_posts", "１２３"),  # a number, but more posts than windows: a blocking rule
    ):
        data = _report_post(token, "submit", lock, **{key: value})
        probe.refused(url, data, f"{key}={value[:16]!r}", (NOT_SUBMITTED,))
    # A warning without its comment; a corrected case-record figure without its note.
    data = _report_post(token, "submit", lock, registered="123456")
    uncommented = {**data, "comment_registered_change": "", "note_registered": "核实"}
    probe.refused(url, uncommented, "no comment", (NOT_SUBMITTED,))
    probe.refused(url, {**data, "note_registered": "\x00  "}, "blank note", (NOT_SUBMITTED,))
    probe.check()


def test_stale_or_junk_lock_versions_never_overwrite(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/r63/reports/{world.dec}"
    lock = lock_of(world.dec)
    for junk in ("", "abc", "-1", "-0x1", str(lock + 1), str(lock - 1), DIGITS, "2147483648", "²"):
        for action in ("save", "submit", "zero", "copy"):
            data = _report_post(token, action, junk)
            probe.refused(url, data, f"{action} lock={junk[:12]!r}", (CONFLICT,), (409, 422))
        data = _report_post(token, "autosave", junk)
        headers = {"HX-Request": "true"}
        label = f"autosave lock={junk[:12]!r}"
        probe.refused(url, data, label, (NOT_SAVED,), (409,), headers=headers)
    # The lock version twice: the browser sends one; a second (stale) one changes nothing.
    data = [(k, v) for k, v in _report_post(token, "save", lock).items() if k != "lock_version"]
    two = [*data, ("lock_version", "0"), ("lock_version", "0")]
    probe.refused(url, two, "lock twice", (CONFLICT,), (409,))
    probe.check()


def test_saving_odd_values_keeps_them_and_never_fails(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    """A draft keeps what was typed, however odd (NUL taken out, numbers as typed), and
    unknown or duplicated field names change nothing else."""
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    url = f"/t/r63/reports/{world.dec}"
    odd: list[tuple[str, Any]] = [
        *((f"staff={v!r}", {"staff": v}) for v in (*BAD_NUMBERS, *ODD_NUMBERS)),
        ("text", {"problems": "问题\x00" + SCRIPT + "😀" + '=HYPERLINK("x")'}),
        ("long text", {"problems": LONG}),
        ("choice", {"hours": "\x00" + SCRIPT}),
    ]
    for label, values in odd:
        for action in ("save", "zero", "junk-action", SCRIPT):
            data = _report_post(token, action, lock_of(world.dec), **values)
            data.update({"f_nope": SCRIPT, "note_nope": "x", "comment_nope": "x", "f_": "1"})
            data["note_registered"] = "核实\x00" + LONG
            response = probe.send("POST", url, label, data=data)
            if response is not None and response.status_code != 303:
                probe.problems.append(f"{label} {action}: {response.status_code}")
    # Duplicated fields, lists and a file where text is expected.
    data = list(_report_post(token, "save", lock_of(world.dec)).items())
    data += [("f_staff", "1"), ("f_staff", SCRIPT), ("action", "submit"), ("action", "x")]
    response = probe.send("POST", url, "duplicates", data=data)
    if response is not None and response.status_code not in (303, 422, 409):
        probe.problems.append(f"duplicates: {response.status_code}")
    data = _report_post(token, "save", lock_of(world.dec))
    del data["f_problems"]
    files = {"f_problems": ("x.txt", b"\x00\xff\xfe", "text/plain")}
    response = probe.send("POST", url, "file", data=data, files=files)
    if response is not None and response.status_code != 303:
        probe.problems.append(f"file in a text field: {response.status_code}")
    # Invalid UTF-8 in the body: replaced, not a 500.
    body = f"csrf_token={token}&action=save&lock_version={lock_of(world.dec)}"
    body += "&f_problems=%ED%A0%80%FF&f_staff=%C0%AF"
    headers = {"content-type": FORM_TYPE}
    response = probe.send("POST", url, "bad utf-8", content=body, headers=headers)
    if response is not None and response.status_code != 303:
        probe.problems.append(f"bad utf-8: {response.status_code}")
    probe.check()


def test_other_periods_and_tenants_answer_404_or_403(client, as_user, world) -> None:  # type: ignore[no-untyped-def]
    token = as_user(MANAGER)
    probe = Probe(client, MANAGER)
    data = _report_post(token, "save", 0)
    for url in (
        "/t/r63/reports/2147483647",
        "/t/r63/reports/99999999999999999999",
        "/t/r63/reports/0",
        f"/t/xb/reports/{world.dec}",
        f"/t/d4/reports/{world.dec}",
        f"/t/r63/reports/{world.x2_period}",
    ):
        probe.refused(url, data, "elsewhere", (), (403, 404))
    token = as_user(CLERK)
    probe.refused(f"/t/r63/reports/{world.dec}", {**data, "csrf_token": token}, "clerk", (), (403,))
    probe.check()
