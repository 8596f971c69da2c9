"""The division's report-form editor in the browser: create, new versions, row buttons,
problems shown where they are, conflicts, who may define, and versions used by periods."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from app.accounts.queries import audit as audit_queries
from app.reports import periods
from app.reports.definition_routes import DONE
from app.reports.queries import forms as form_queries
from app.rules import RuleError, compile_rule
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext
from tests import reliability
from tests.catalogue.test_editor import signed_in
from tests.reports import helpers

D4 = "/t/d4/report-forms"


@contextmanager
def session(app: Any, username: str) -> Iterator[tuple[TestClient, str]]:
    client, token = signed_in(app, username)
    try:
        yield client, token
    finally:
        client.__exit__(None, None, None)


@pytest.fixture
def supervisor(app) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    with session(app, "d4-liuhong") as pair:
        yield pair


def said(message: str, **variables: Any) -> str:
    """A message as the page shows it (the default locale, HTML-escaped)."""
    return str(escape(gettext(message, **variables)))


def new_code() -> str:
    return f"t-form-{secrets.token_hex(4)}"


def _field(s: int, f: int, key: str, label: str, kind: str = "integer", **more: Any) -> dict:
    prefix = f"sections-{s}-fields-{f}-"
    values = {"key": key, "label": label, "type": kind, "required": "y", "unit": ""}
    values.update(help="", choices="", source="", rollup="auto")
    values.update(more)
    return {prefix + k: v for k, v in values.items() if v is not None}


def form_body(token: str, **changes: Any) -> dict[str, Any]:
    """A valid new form: one section of four fields (two pre-filled) and one blocking rule."""
    body: dict[str, Any] = {
        "csrf_token": token,
        "title": "测试月报表",
        "filers": ["regiment", "community"],
        "due_day": "5",
        "lock_day": "10",
        "intro": "请按时报送。\r\n谢谢。",
        "sections-0-key": "business",
        "sections-0-title": "一、业务办理",
        "sections-0-help": "",
        **_field(0, 0, "registered", "本月登记办件数", source="registered", unit="件"),
        **_field(0, 1, "concluded", "本月办结件数", source="concluded", unit="件"),
        **_field(0, 2, "hours_ok", "按时开放", "yesno"),
        **_field(0, 3, "grade", "自评等级", "choice", choices="好\r\n中\r\n差"),
        # A blank row, as the browser sends it: ignored.
        **_field(0, 4, "", "", required=None),
        "rules-0-key": "concluded_le_registered",
        "rules-0-level": "block",
        "rules-0-expr": "concluded <= registered + 100",
        "rules-0-message": "办结件数不能多于登记件数",
        "effective_from": periods.opening_day(periods.month_of(periods.local_today())).isoformat(),
        "change_note": "首次定义",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def created_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:3000]
    match = re.fullmatch(r".*/report-forms/(\d+)\?done=created", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def create(client: TestClient, token: str, code: str | None = None, **changes: Any) -> int:
    body = form_body(token, code=code or new_code(), **changes)
    return created_id(client.post(f"{D4}/new", data=body))


SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)


def form_values(page: str) -> dict[str, Any]:
    """What a browser would submit from the editor (checked boxes, selected options)."""
    form = page[page.index('class="stack editor"') :]
    out: dict[str, Any] = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)(?:="([^"]*)")?', tag[6:])}
        name, kind = attrs.get("name", ""), attrs.get("type")
        if kind == "checkbox" and "checked" in attrs:
            out.setdefault(name, []).append(attrs.get("value") or "y")
        elif name and name != "csrf_token" and kind != "checkbox":
            out[name] = attrs.get("value", "")
    for name, options in SELECT.findall(form):
        chosen = re.search(r'<option(?=[^>]*\bselected)[^>]*value="([^"]*)"', options)
        out[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, text in TEXTAREA.findall(form):
        out[name] = html.unescape(text.lstrip("\r\n"))
    return out


def edit_body(client: TestClient, form_id: int, token: str, **changes: Any) -> dict[str, Any]:
    page = client.get(f"{D4}/{form_id}")
    assert page.status_code == 200, page.text[:500]
    body = form_values(page.text)
    body["csrf_token"] = token
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _system() -> Any:
    return system_scope(asyncio.run(tenancy.tree()), reason="tests: report forms")


def versions_of(form_id: int) -> list[dict[str, Any]]:
    return asyncio.run(form_queries.versions(_system(), form_id))


def form_row(form_id: int) -> Any:
    return asyncio.run(form_queries.form(_system(), form_id))


def open_period(form_id: int, month: int) -> Any:
    return asyncio.run(helpers.open_period(month, form_row(form_id)))


def _d4_id() -> int:
    return asyncio.run(tenancy.tree()).by_slug["d4"].id


def audit_actions() -> list[tuple[str, str]]:
    rows = asyncio.run(audit_queries.audit_entries(_system(), _d4_id(), limit=50))
    return [(r["action"], r["object_id"]) for r in rows]


# --- creating and versioning ------------------------------------------------------------------


def test_supervisor_creates_a_form_and_a_new_version(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    form_id = create(client, token, code)
    [v1] = versions_of(form_id)
    d = v1["definition"]
    assert v1["number"] == 1 and d["filers"] == ["regiment", "community"]
    assert d["intro"] == "请按时报送。\n谢谢。"
    fields = d["sections"][0]["fields"]
    assert [f["key"] for f in fields] == ["registered", "concluded", "hours_ok", "grade"]
    assert fields[0]["source"] == "registered" and fields[0]["rollup"] == "sum"
    assert fields[3]["choices"] == ["好", "中", "差"] and fields[3]["rollup"] == "none"
    assert ("report_form.created", str(form_id)) in audit_actions()

    listing = client.get(D4)
    assert listing.status_code == 200 and "测试月报表" in listing.text and code in listing.text
    assert f'href="{D4}/{form_id}"' in listing.text and f'href="{D4}/new"' in listing.text

    page = client.get(f"{D4}/{form_id}?done=created")
    assert (
        'value="本月登记办件数"' in page.text
        and 'name="expected" type="hidden" value="1"' in page.text
    )

    # Saving what the editor shows changes nothing.
    same = client.post(f"{D4}/{form_id}", data=edit_body(client, form_id, token))
    assert same.status_code == 303 and same.headers["location"].endswith("?done=unchanged")
    assert len(versions_of(form_id)) == 1
    assert str(escape(str(DONE["unchanged"]))) in client.get(same.headers["location"]).text

    body = edit_body(
        client, form_id, token, **{"sections-0-fields-1-label": "本月办结件数（含退回）"}
    )
    body["change_note"] = "改名"
    changed = client.post(f"{D4}/{form_id}", data=body)
    assert changed.status_code == 303 and changed.headers["location"].endswith("?done=versioned")
    v2, _v1 = versions_of(form_id)
    assert v2["number"] == 2 and v2["change_note"] == "改名"
    assert form_row(form_id)["current_version"] == 2
    assert ("report_form.versioned", str(form_id)) in audit_actions()

    diff = client.get(f"{D4}/{form_id}/v/2")
    assert diff.status_code == 200
    assert 'data-key="concluded"' in diff.text and 'data-attr="label"' in diff.text
    assert (
        "<del>本月办结件数</del>" in diff.text and "<ins>本月办结件数（含退回）</ins>" in diff.text
    )
    old = client.get(f"{D4}/{form_id}/v/1")
    assert said("The first version: nothing to compare with.") in old.text

    for path in (D4, f"{D4}/new", f"{D4}/{form_id}", f"{D4}/{form_id}/v/2"):  # full and htmx
        full, part = client.get(path), client.get(path, headers={"HX-Request": "true"})
        assert full.status_code == part.status_code == 200, path
        assert "<!doctype html>" in full.text and "<html" not in part.text, path
        assert 'id="content"' in part.text and "style=" not in full.text, path
        assert "<script>" not in full.text and "hx-on" not in full.text, path
        assert "/static/css/reports-forms.css" in part.text, path
        assert "HX-Request" in full.headers["Vary"], path


def test_a_new_version_applies_to_periods_opened_after_it(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    form_id = create(client, token)
    v1 = versions_of(form_id)[0]
    early = open_period(form_id, 202701)  # opens 2027-02-01: version 1
    assert early["version_id"] == v1["id"]
    body = edit_body(client, form_id, token, due_day="3", effective_from="2027-03-01")
    assert client.post(f"{D4}/{form_id}", data=body).status_code == 303
    v2 = versions_of(form_id)[0]
    assert v2["number"] == 2 and str(v2["effective_from"]) == "2027-03-01"
    later = open_period(form_id, 202702)  # opens 2027-03-01: version 2, due on the 3rd
    assert later["version_id"] == v2["id"] and str(later["due_on"]) == "2027-03-03"
    assert open_period(form_id, 202701)["version_id"] == v1["id"]  # kept
    page1 = client.get(f"{D4}/{form_id}/v/1").text
    page2 = client.get(f"{D4}/{form_id}/v/2").text
    assert "from=202701" in page1 and "from=202702" not in page1
    assert "from=202702" in page2 and "from=202701" not in page2
    assert 'data-attr="due_day"' in page2
    listing = client.get(D4).text
    assert periods.month_label(202702) in listing


# --- problems shown where they are ------------------------------------------------------------


def _rule_problem(expr: str, fields: list[str]) -> str:
    with pytest.raises(RuleError) as refused:
        compile_rule(expr, fields)
    exc = refused.value
    return said("Character %(pos)s: %(reason)s", pos=exc.position, reason=exc.reason)


def test_a_broken_rule_is_refused_with_its_position(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    numeric = ["registered", "concluded", "hours_ok"]
    for expr in ("concluded <= registered +", "concluded <= regstered", "concluded = registered"):
        response = client.post(
            f"{D4}/new", data=form_body(token, code=code, **{"rules-0-expr": expr})
        )
        assert response.status_code == 422, expr
        assert _rule_problem(expr, numeric) in _row_html(response.text, "rules-0"), expr
        assert "<mark>" in response.text
        assert 'value="本月登记办件数"' in response.text  # the input is kept
        assert html.escape(expr, quote=False) in response.text
    assert asyncio.run(form_queries.form_by_code(_system(), _d4_id(), code)) is None


def _row_html(page: str, row_id: str) -> str:
    start = page.index(f'id="{row_id}"')
    return page[start : page.index("</fieldset>", start)]


def test_duplicate_keys_and_a_single_choice_are_refused(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    bad_key = "Use lower-case letters, digits and _ (starting with a letter, at most 40)"
    for row, attr, value, message in (
        (1, "key", "registered", "Another field already uses this key."),
        (3, "choices", "好", "A choice field needs at least two choices"),
        (2, "key", "Bad Key", bad_key),
        (
            2,
            "source",
            "registered",
            "A field filled from case records must be a number of its kind",
        ),
        (2, "rollup", "sum", "Only number fields can be totalled"),
        (0, "label", "", "Enter this or remove the row."),
    ):
        name = f"sections-0-fields-{row}-{attr}"
        response = client.post(f"{D4}/new", data=form_body(token, code=code, **{name: value}))
        assert response.status_code == 422, name
        assert said(message) in _row_html(response.text, f"sections-0-fields-{row}"), name
        assert f'href="#{name}"' in response.text  # the summary links to the input
    late_lock = client.post(f"{D4}/new", data=form_body(token, code=code, lock_day="3"))
    assert late_lock.status_code == 422
    assert said("The lock day cannot be before the due day.") in late_lock.text
    past = client.post(f"{D4}/new", data=form_body(token, code=code, effective_from="2020-01-01"))
    earliest = periods.local_today()
    assert past.status_code == 422
    assert (
        said("A new version can take effect on %(day)s at the earliest.", day=earliest) in past.text
    )
    existing = new_code()
    create(client, token, existing)
    again = client.post(f"{D4}/new", data=form_body(token, code=existing))
    assert again.status_code == 422
    assert said("Another form of the division already uses this code.") in again.text
    assert asyncio.run(form_queries.form_by_code(_system(), _d4_id(), code)) is None


def test_row_buttons_add_move_and_remove(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    code = new_code()
    body = form_body(token, code=code)
    more = client.post(f"{D4}/new", data={**body, "more": "field-0"})
    assert more.status_code == 200
    assert more.text.count('<fieldset class="def-field') == 6  # five posted + one new
    assert 'value="本月登记办件数"' in more.text
    section = client.post(f"{D4}/new", data={**body, "more": "section"})
    assert 'id="sections-1"' in section.text and 'id="sections-1-fields-1"' in section.text
    rule = client.post(f"{D4}/new", data={**body, "more": "rule"})
    assert 'id="rules-1"' in rule.text
    moved = client.post(f"{D4}/new", data={**body, "move": "up:sections-0-fields-1"})
    assert moved.status_code == 200
    values = form_values(moved.text)
    assert values["sections-0-fields-0-key"] == "concluded"
    assert values["sections-0-fields-1-key"] == "registered"
    assert values["sections-0-fields-0-source"] == "concluded"
    # Save what came back, with the yes/no field removed.
    values.update(csrf_token=token, **{"sections-0-fields-2-remove": "y"})
    form_id = created_id(client.post(f"{D4}/new", data=values))
    fields = versions_of(form_id)[0]["definition"]["sections"][0]["fields"]
    assert [f["key"] for f in fields] == ["concluded", "registered", "grade"]


def test_a_stale_editor_gets_a_conflict_with_its_input_kept(supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    form_id = create(client, token)
    first = edit_body(client, form_id, token, intro="第一次修改")
    second = edit_body(client, form_id, token, intro="第二次修改（过期）")
    assert client.post(f"{D4}/{form_id}", data=first).status_code == 303
    stale = client.post(f"{D4}/{form_id}", data=second)
    assert stale.status_code == 409
    assert "第二次修改（过期）" in stale.text and f'href="{D4}/{form_id}/v/2"' in stale.text
    assert len(versions_of(form_id)) == 2


# --- who may define ----------------------------------------------------------------------------


def test_only_a_divisions_supervisor_defines_forms(app, supervisor) -> None:  # type: ignore[no-untyped-def]
    client, token = supervisor
    form_id = create(client, token)
    assert client.get("/t/r63/report-forms").status_code == 404  # d4's supervisor at a regiment
    for username, slug, status in (
        ("r63-zhoujianguo", "r63", 403),
        ("d4-chenzhiqiang", "d4", 403),
        ("zr-supervisor", "zr", 404),
    ):
        with session(app, username) as (other, other_token):
            for path in ("/report-forms", "/report-forms/new", f"/report-forms/{form_id}"):
                assert other.get(f"/t/{slug}{path}").status_code == status, (username, path)
            posted = other.post(
                f"/t/{slug}/report-forms/new", data=form_body(other_token, code=new_code())
            )
            assert posted.status_code == status, username
    for url in (f"{D4}/abc", f"{D4}/99999999", f"{D4}/{form_id}/v/9", f"{D4}/{form_id}/v/x"):
        assert client.get(url).status_code == 404, url


def test_another_divisions_forms_are_404(app, supervisor) -> None:  # type: ignore[no-untyped-def]
    """x2 (a second division made by the security harness) keeps its forms to itself."""
    from tests.security.harness import X2_SUPERVISOR, load_world

    load_world()
    client, token = supervisor
    with session(app, X2_SUPERVISOR) as (x2, x2_token), session(app, "xa-manager") as (xa, _t):
        body = form_body(x2_token, code=new_code(), title="CANARYB-乙师月报")
        x2_form = created_id(x2.post("/t/x2/report-forms/new", data=body))
        assert "CANARYB-乙师月报" in x2.get("/t/x2/report-forms").text
        for url in (f"{D4}/{x2_form}", f"{D4}/{x2_form}/v/1", f"/t/x2/report-forms/{x2_form}"):
            response = reliability.cross_tenant(client.get(url), shows="CANARYB")
            assert response.status_code == 404 and "CANARYB" not in response.text, url
        response = client.post(f"{D4}/{x2_form}", data={**form_body(token), "expected": "1"})
        assert reliability.cross_tenant(response).status_code == 404
        forms = reliability.cross_tenant(client.get(D4), shows="CANARYB", listing=True)
        assert "CANARYB" not in forms.text
        theirs = x2.get(f"/t/x2/report-forms/{create(client, token)}")
        assert reliability.cross_tenant(theirs).status_code == 404
        for url in ("/t/xa/report-forms", f"/t/xa/report-forms/{x2_form}"):
            response = reliability.cross_tenant(xa.get(url), shows="CANARYB")
            assert response.status_code in (403, 404) and "CANARYB" not in response.text
