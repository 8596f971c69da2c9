"""Hostile input on the report-form editor (issue 6): new forms and new versions posted with
hostile codes, titles, days, dates, rows (hundreds of them, odd indices, unicode keys) and
rule expressions that try to run code, loop, nest or overflow.  Never a 5xx; a refusal is
422 (409 for a stale ``expected`` version) with its message, and no form or version row is
left behind.  A row button (add, move) only re-renders the page (200), writing nothing.

The probe and the request count: tests/reports/hostile.py.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import pytest
from markupsafe import escape

from app.reports import periods, versions
from app.reports.queries import forms as form_queries
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from tests.reports.helpers import run
from tests.reports.hostile import (
    DIGITS,
    LONG,
    MANAGER,
    SCRIPT,
    SUPERVISOR,
    Probe,
    said,
    summary,  # noqa: F401  (the module's count of hostile requests, printed at its end)
    world_fixture,  # noqa: F401  (the ``world`` fixture)
)
from tests.reports.test_definition_routes import D4, edit_body, form_body

PROBLEMS = ('id="definition"', '<p class="error">')  # the summary, or a row's message
BAD_DAYS = ("", "abc", "0", "29", "-1", "1e1", "NaN", "²", "５０", DIGITS, "99999999999999999999")
BAD_DATES = ("", "abc", "2026-02-30", "0001-01-01", "2026-13-01", "２０２７-０１-０１", LONG)
DEPTH = 1000
HOSTILE_RULES = (
    "9**9**9",
    "9 ** 9 ** 9 ** 9",
    '__import__("os")',
    "__import__('os').system('id')",
    "registered.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "(" * DEPTH + "registered" + ")" * DEPTH,
    "(" * 240 + "registered" + ")" * 240,
    "-" * 490 + "registered",
    "not " * 120 + "registered",
    "registered" + " + registered" * 60,
    "1" * 499,
    "1e999 > registered",
    "registered > 1" + " and registered > 1" * 40,
    "x" * 501,
    "registered\x00 >\x00",
    "lambda: 1",
    'f"{registered}" == 1',
    "(a := 1) > 0",
    "[registered][0] > 1",
    "{registered} > 1",
    "registered if registered else __import__('os')",
    "prev(prev(registered)) > 1",
    "prev(1) > 1",
    "round(registered, 99) > 1",
    "min(*[registered, 1]) > 1",
    "max(registered=1) > 1",
    "registered = 1",
    "'text' > 1",
    "registered > ",
    "\u202eregistered > 1",
    "😀 > 1",
    SCRIPT,
    "",
)


def _system() -> Any:
    return system_scope(run(tenancy.tree()), reason="tests: hostile editor")


async def _own_form() -> int:
    """A form of d4 for these tests (the seed form's versions stay as they are)."""
    tree = await tenancy.tree()
    scope = system_scope(tree, reason="tests: hostile editor")
    d4 = tree.by_slug["d4"].id
    found = await form_queries.form_by_code(scope, d4, "hostile-editor")
    if found is None:
        definition = {
            "filers": ["regiment"],
            "sections": [
                {"key": "main", "title": "业务", "fields": [{"key": "registered", "label": "n"}]}
            ],
        }
        owner = scope.with_tenant(d4)
        await versions.create_form(
            owner, d4, "hostile-editor", "测试", definition, date(2026, 1, 1)
        )
        found = await form_queries.form_by_code(scope, d4, "hostile-editor")
    assert found is not None
    return int(found["id"])


def _x2_form() -> int:
    tree = run(tenancy.tree())
    scope = system_scope(tree, reason="tests: hostile editor")
    found = run(form_queries.form_by_code(scope, tree.by_slug["x2"].id, "hostile-x2"))
    assert found is not None, "made by the world of tests/reports/hostile.py"
    return int(found["id"])


def _new(token: str, **changes: Any) -> dict[str, Any]:
    body = form_body(token, code=f"h-{secrets.token_hex(4)}")
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _newest(form_id: int) -> int:
    found = run(form_queries.form(_system(), form_id))
    assert found is not None
    return int(found["current_version"])


def _rows(count: int, section: int = 0, start: int = 0) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in range(start, start + count):
        prefix = f"sections-{section}-fields-{n}-"
        out.update({prefix + "key": f"f{section}_{n}", prefix + "label": f"字段{n}"})
        out.update({prefix + "type": "integer", prefix + "rollup": "auto"})
    return out


def test_new_forms_refuse_hostile_bodies(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"{D4}/new"
    tries: list[tuple[str, dict[str, Any]]] = [
        *((f"code={c[:12]!r}", {"code": c}) for c in ("", SCRIPT, "Ａbc", "代码", LONG, "\x00")),
        ("code taken", {"code": "monthly-centre"}),
        ("code 33", {"code": "a" * 33}),
        ("code newline", {"code": "abc\ndef"}),
        *((f"title={t[:12]!r}", {"title": t}) for t in ("", "   ", "\x00", LONG)),
        ("filers junk", {"filers": ["robot", SCRIPT]}),
        ("filers none", {"filers": None}),
        ("intro long", {"intro": LONG}),
        ("note long", {"change_note": LONG}),
        *((f"due_day={d[:12]!r}", {"due_day": d}) for d in BAD_DAYS),
        *((f"lock_day={d[:12]!r}", {"lock_day": d}) for d in BAD_DAYS),
        ("lock before due", {"due_day": "20", "lock_day": "3"}),
        *((f"effective={d[:12]!r}", {"effective_from": d}) for d in BAD_DATES),
        ("unicode key", {"sections-0-fields-0-key": "登记"}),
        ("key with accents", {"sections-0-fields-0-key": "régistered"}),
        ("key digits", {"sections-0-fields-0-key": "１abc"}),
        ("key long", {"sections-0-fields-0-key": "a" * 41}),
        ("key script", {"sections-0-fields-0-key": SCRIPT}),
        ("section key", {"sections-0-key": "Ⅻ"}),
        ("type junk", {"sections-0-fields-0-type": SCRIPT}),
        ("source junk", {"sections-0-fields-0-source": "__class__"}),
        ("rollup junk", {"sections-0-fields-3-rollup": "sum"}),  # a choice field
        ("choices many", {"sections-0-fields-3-choices": "\n".join(map(str, range(40)))}),
        ("choices same", {"sections-0-fields-3-choices": "好\n好"}),
        ("choice long", {"sections-0-fields-3-choices": "好\n" + "长" * 61}),
        ("label long", {"sections-0-fields-0-label": LONG}),
        ("help long", {"sections-0-fields-0-help": LONG}),
        ("rule level", {"rules-0-level": "fatal"}),
        ("rule message long", {"rules-0-message": LONG}),
        ("rule key dup", {"rules-1-key": "concluded_le_registered", "rules-1-expr": "1 > 0"}),
        ("field key dup", {"sections-0-fields-1-key": "registered"}),
        # Hundreds of rows: more fields than a form may have, and more sections than allowed.
        ("200 rows + bad rule", {**_rows(200, 0, 5), "rules-0-expr": "1 >"}),
        ("22 sections + bad rule", {**_many_sections(22), "rules-0-expr": "1 >"}),
        ("rows over the cap", {k: v for s in range(1, 3) for k, v in _section(s, 60).items()}),
    ]
    for label, changes in tries:
        probe.refused(url, _new(token, **changes), label, PROBLEMS)
    for rule in HOSTILE_RULES:  # refused where it stands, as typed (NUL taken out)
        response = probe.refused(url, _new(token, **{"rules-0-expr": rule}), rule[:16], PROBLEMS)
        kept = str(escape(rule.replace("\x00", "").strip()))
        if response is not None and kept not in response.text:
            probe.problems.append(f"rule {rule[:16]!r}: what was typed is not kept")
    # Over Starlette's 1000 fields: the token cannot be read (403); with the token in the
    # header, the form cannot be read (400).
    huge = _new(token, **_rows(300, 0, 5))
    probe.refused(url, huge, "1200 fields", (), (403,))
    probe.refused(url, huge, "1200 fields, header", (), (400,), headers={"X-CSRFToken": token})
    # Files where text is expected.
    for name in ("title", "code", "sections-0-fields-0-key", "rules-0-expr", "due_day", "filers"):
        files = {name: ("x.txt", b"\x00\xff", "text/plain")}
        body = {k: v for k, v in _new(token).items() if k != name}
        probe.refused(url, body, f"file as {name}", PROBLEMS, files=files)
    # Odd row indices: WTForms reads "²" and a 5000-digit index as numbers.
    for index in ("²", "１", DIGITS, "99999999999999999999", "-1", "0x1", "1_0"):
        odd = {f"sections-{index}-key": "x", f"sections-0-fields-{index}-key": "y"}
        odd.update({f"rules-{index}-expr": "1 >", "rules-0-expr": "1 >"})
        probe.refused(url, _new(token, **odd), f"index {index[:12]!r}", PROBLEMS)
    probe.check()


def _many_sections(count: int) -> dict[str, str]:
    return {k: v for s in range(1, count) for k, v in _section(s).items()}


def _section(s: int, fields: int = 2) -> dict[str, str]:
    return {f"sections-{s}-key": f"s{s}", f"sections-{s}-title": f"第{s}部分", **_rows(fields, s)}


def test_row_buttons_with_hostile_values_only_re_render(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    url = f"{D4}/new"
    for more in ("field-²", "field-１", "field-" + DIGITS, "field-99999999999", "field--1", "x"):
        probe.refused(url, _new(token, more=more), f"more={more[:14]!r}", (), (200,))
    for move in (
        "up:sections-²",
        "down:sections-0-fields-99",
        "sideways:sections-0",
        "up:" + LONG,
        "up:rules-0",
        SCRIPT,
        "\x00",
    ):
        probe.refused(url, _new(token, move=move), f"move={move[:14]!r}", (), (200,))
    # A section added past the cap, a field past the cap: the page comes back, nothing breaks.
    many = _new(token, **_many_sections(20))
    probe.refused(url, {**many, "more": "section"}, "section 21", (), (200,))
    full = _new(token, **_rows(115, 0, 5))
    probe.refused(url, {**full, "more": "field-0"}, "field 121", (), (200,))
    probe.check()


@pytest.mark.usefixtures("world")
def test_new_versions_refuse_hostile_bodies(client, as_user) -> None:  # type: ignore[no-untyped-def]
    token = as_user(SUPERVISOR)
    probe = Probe(client, SUPERVISOR)
    form_id = run(_own_form())
    url = f"{D4}/{form_id}"
    body = edit_body(client, form_id, token)
    today = periods.local_today()
    for label, changes in (
        *((f"rule {r[:16]!r}", {"rules-0-key": "r", "rules-0-expr": r}) for r in HOSTILE_RULES),
        *((f"effective={d[:12]!r}", {"effective_from": d}) for d in BAD_DATES),
        ("effective past", {"effective_from": date(today.year - 1, 1, 1).isoformat()}),
        ("title long", {"title": LONG}),
        ("no sections", {"sections-0-remove": "y"}),
        ("unicode key", {"sections-0-fields-0-key": "ключ"}),
    ):
        data = {**body, "rules-0-message": "m", "rules-0-level": "block", **changes}
        probe.refused(url, data, label, PROBLEMS)
    # A changed definition against a version that is not the newest: 409, input kept.
    meanwhile = said(
        "Version %(n)s was saved meanwhile, so yours was not. Your input is kept below:"
        " compare it with version %(n)s, then open the editor again.",
        n=_newest(form_id),
    )[:20]
    changed = {**body, "sections-0-fields-0-label": "改了"}
    for expected in ("", "0", "2", "-1", "abc", "²", "１", DIGITS, "99999999999999999999"):
        data = {**changed, "expected": expected}
        probe.refused(url, data, f"expected={expected[:12]!r}", (meanwhile,), (409, 422))
    # Another division's form, a form past int32, a centre's manager.
    for other in (str(_x2_form()), "2147483648", "0", "²", DIGITS):
        probe.refused(f"{D4}/{other}", body, f"form {other[:12]!r}", (), (404,))
    token = as_user(MANAGER)
    probe.refused(url, {**body, "csrf_token": token}, "manager", (), (403, 404))
    probe.refused(f"{D4}/new", _new(token), "manager new", (), (403, 404))
    probe.check()
