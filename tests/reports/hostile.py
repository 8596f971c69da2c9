"""The probe of the reports' hostile-input tests (test_hostile*.py): hostile values, a
client wrapper that counts every request and 5xx and checks that a refused POST leaves the
row counts of the reports tables as they were, and the objects the routes need.

Months 2028-11 (r63 submitted, waiting for d4) and 2028-12 (r63's draft) are these tests'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from app import db
from app.reports import filing, versions
from app.reports.queries import exports as export_queries
from app.reports.queries import forms as form_queries
from app.reports.tables import (
    ExportJob,
    FormVersion,
    ReportException,
    ReportForm,
    ReportValue,
    Submission,
    SubmissionEvent,
)
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext
from tests import reliability
from tests.reports.helpers import filled, open_period, run, scope_of, seed_form

NOV, DEC = 202811, 202812
MANAGER, SUPERVISOR, CLERK = "r63-zhoujianguo", "d4-liuhong", "r63-guzailinuer"
PREFIXES = ("/t/{slug}/reports", "/t/{slug}/report-forms")
SCRIPT = "<script>alert('hostile')</script>"
LEAK = "<script>alert("  # what must never come back unescaped
LONG = "長" * 10_000
DIGITS = "9" * 5000  # more digits than int() accepts (Python's 4300-digit limit)
# Values a number box may get: none of them is a count the form can take.
BAD_NUMBERS = (
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "sNaN",
    "1e999",
    "1e999999999999999999999",
    "99999999999999999999",
    DIGITS,
    "-1",
    "²",
    "12abc",
    "1.5.5",
    "0x10",
    SCRIPT,
    '=HYPERLINK("http://evil.example/","x")',
    "😀",
    "\x00",
    LONG,
)
# Look odd, but are numbers: "-0" is 0, full-width digits and "12,345" are read as typed.
ODD_NUMBERS = ("-0", "１２３", "12,345", "  7  ", "0e999999999", "1_000")
MONTHS = ("999999", "202613", "-1", "abc", "9" * 3000, "²²²²²²", "２０２８１１", "2028-00", SCRIPT)
IDS = ("abc", "-1", "0", "99999999999999999999", DIGITS, "²", "１", SCRIPT, "\x00", "1.5")
PATH_IDS = ("abc", "-1", "0", "99999999999999999999", DIGITS, "²", "%00", "2147483648", "999999")
GET_OK = (200, 303, 400, 403, 404, 422)
FORM_TYPE = "application/x-www-form-urlencoded"

# --- counting every hostile request ------------------------------------------------------

STATS = {"requests": 0, "5xx": 0}


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[None]:
    yield
    print(
        f"\nreports hostile input: {STATS['requests']} hostile requests,"
        f" {STATS['5xx']} answered 5xx",
        flush=True,
    )
    assert STATS["5xx"] == 0, STATS


TABLES = (
    ReportForm,
    FormVersion,
    Submission,
    SubmissionEvent,
    ReportValue,
    ReportException,
    ExportJob,
)


async def _counts() -> dict[str, int]:
    """Rows of every reports table, in one statement (read as the system)."""
    scope = system_scope(await tenancy.tree(), reason="tests: hostile counts")
    names = [t._meta.tablename for t in TABLES]
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {n}) AS {n}" for n in names)
    async with db.read(scope):
        rows = await ReportForm.raw(sql)
    return {n: int(rows[0][n]) for n in names}


def counts() -> dict[str, int]:
    return dict(run(_counts()))


def said(message: str, **variables: Any) -> str:
    """A message as the page shows it (the default locale, HTML-escaped)."""
    return str(escape(gettext(message, **variables)))


class Probe:
    """Sends hostile requests through one client; collects every problem to report at once."""

    def __init__(self, client: TestClient, who: str) -> None:
        self.client, self.who = client, who
        self.problems: list[str] = []
        self.known: dict[str, int] | None = None  # the counts after the last refused POST

    def send(self, method: str, url: str, label: str, **kwargs: Any) -> Any:
        if method != "GET":
            self.known = None
        if isinstance(kwargs.get("data"), list):  # repeated names, in this order
            headers = {**kwargs.pop("headers", {}), "content-type": FORM_TYPE}
            kwargs.update(content=urlencode(kwargs.pop("data")), headers=headers)
        STATS["requests"] += 1
        try:
            response = reliability.hostile(self.client.request, method, url, **kwargs)
        except Exception as exc:  # the test client re-raises what would have been a 500
            STATS["5xx"] += 1
            self.problems.append(
                f"[{self.who}] {method} {url[:120]} {label}: 500 {type(exc).__name__}:"
                f" {str(exc)[:300]}"
            )
            return None
        if response.status_code >= 500:
            STATS["5xx"] += 1
            self.problems.append(f"[{self.who}] {method} {url[:120]} {label}: 5xx")
        kind = response.headers.get("content-type", "")
        if kind.startswith("text/") and LEAK in response.text:
            self.problems.append(f"[{self.who}] {method} {url[:120]} {label}: <script> unescaped")
        return response

    def get(self, url: str, params: list[tuple[str, str]], label: str, **kwargs: Any) -> Any:
        response = self.send("GET", url, label, params=params, **kwargs)
        htmx = "HX-Request" in kwargs.get("headers", {})
        if response is not None and htmx and response.status_code == 204:
            return response  # an anonymous htmx request is sent to the login page
        if response is not None and response.status_code not in GET_OK:
            self.problems.append(f"[{self.who}] GET {url} {label}: {response.status_code}")
        return response

    def refused(
        self,
        url: str,
        data: Any,
        label: str,
        says: tuple[str, ...] = (),
        expect: tuple[int, ...] = (422,),
        **kwargs: Any,
    ) -> Any:
        """POST a body that must be refused: the status is one of ``expect``, one of the
        messages ``says`` is on the page, and no row of the reports tables changed count."""
        before = self.known or counts()
        response = self.send("POST", url, label, data=data, **kwargs)
        if response is None:
            return None
        where = f"[{self.who}] POST {url} {label}"
        if response.status_code not in expect:
            self.problems.append(f"{where}: {response.status_code}, expected {expect}")
        elif says and not any(s in response.text for s in says):
            self.problems.append(f"{where}: none of {[s[:40] for s in says]} shown")
        after = counts()
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            self.problems.append(f"{where}: left rows {changed}")
        self.known = after
        return response

    def check(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


# --- the objects the routes need ---------------------------------------------------------


@dataclass(frozen=True)
class World:
    form_id: int
    nov: int  # r63 submitted: waits for d4's review
    dec: int  # r63's draft
    own_job: int  # d4-liuhong's export job
    other_job: int  # xb's manager's export job
    x2_form: int  # another division's form
    x2_period: int  # … and its period of 2028-11


async def _job(username: str, slug: str) -> int:
    scope = await scope_of(username, slug)
    async with db.write(scope):
        return await export_queries.insert_job(
            scope,
            scope.own(),
            kind="rollup",
            params={"hostile": True},
            status="queued",
            requested_by=scope.user_id,
        )


async def _x2() -> tuple[int, int]:
    """Another division's form (x2 files it itself) and its period of 2028-11."""
    tree = await tenancy.tree()
    if "x2" not in tree.by_slug:  # the second division of the security tests
        from tests.security.harness import _catalogue_world

        await _catalogue_world()
        tree = await tenancy.tree()
    x2 = tree.by_slug["x2"].id
    owner = dataclasses.replace(system_scope(tree, reason="tests: hostile x2"), tenant_id=x2)
    form = await form_queries.form_by_code(owner, x2, "hostile-x2")
    if form is None:
        definition = {
            "filers": ["division"],
            "sections": [{"key": "main", "title": "业务", "fields": [{"key": "n", "label": "n"}]}],
        }
        await versions.create_form(owner, x2, "hostile-x2", "乙师", definition, date(2026, 1, 1))
        form = await form_queries.form_by_code(owner, x2, "hostile-x2")
    assert form is not None
    return int(form["id"]), int((await open_period(NOV, form))["id"])


async def _world() -> World:
    form = await seed_form()
    nov, dec = await open_period(NOV), await open_period(DEC)
    scope = await scope_of(MANAGER, "r63")
    report = await filing.load(scope, nov["id"])
    if report.submission is None or report.submission["status"] in ("draft", "returned"):
        await filing.submit(
            scope,
            report,
            filled(report),
            corrections={},
            comments={r.key: "说明" for r in report.definition.rules if r.level == "warn"},
            lock_version=report.lock_version,
        )
    x2_form, x2_period = await _x2()
    report = await filing.load(scope, dec["id"])
    if report.submission is None:
        await filing.save(
            scope, report, filled(report), corrections={}, comments={}, lock_version=0
        )
    return World(
        form_id=int(form["id"]),
        nov=int(nov["id"]),
        dec=int(dec["id"]),
        own_job=await _job(SUPERVISOR, "d4"),
        other_job=await _job("xb-manager", "xb"),
        x2_form=x2_form,
        x2_period=x2_period,
    )


@pytest.fixture(scope="module", name="world")
def world_fixture() -> World:
    """The objects the routes need (import ``world_fixture`` to use ``world``)."""
    return run(_world())


def lock_of(period_id: int) -> int:
    scope = run(scope_of(MANAGER, "r63"))
    return int(run(filing.load(scope, period_id)).lock_version)


def file_part(name: str) -> dict[str, Any]:
    """A file part named like a text field (a multipart post)."""
    return {name: ("x.txt", b"2028-12\x00\xff", "text/plain")}
