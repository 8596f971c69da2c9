"""Structured logs: one JSON access line per request with its context, no personal data."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from app.accounts import queries as accounts
from app.ops.logs import RequestContext, TextFormatter, enter, leave
from tests.cases.helpers import DIBAO, RESIDENT_ID, ensure_adopted, run
from tests.conftest import PASSWORD, ROOT, login
from tests.ops.conftest import JsonLog

CLERK, MANAGER = "r63-guzailinuer", "r63-zhoujianguo"
PHONE = "13912345678"
APPLICANT = "欧阳日志测"
REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")


def user_id(username: str) -> int:
    row = run(accounts.user_by_username(username))
    assert row is not None
    return int(row["id"])


def registration(item: dict[str, Any], token: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "item_code": item["code"],
        "applicant_kind": "person",
        "applicant_name": APPLICANT,
        "id_number": RESIDENT_ID,
        "phone": PHONE,
        "contact_address": "六十三团一连",
        "channel": "window",
        "supplement_days": "5",
        "note": "",
    }
    for pos, material in enumerate(item["content"]["materials"]):
        conditional = material.get("requirement") == "conditional"
        data[f"m{pos}_status"] = "waived" if conditional else "received"
    return data


def the_line(lines: list[dict[str, Any]], method: str, route: str) -> dict[str, Any]:
    found = [r for r in lines if r["method"] == method and r["route"] == route]
    assert len(found) == 1, (method, route, [(r["method"], r["route"]) for r in lines])
    return found[0]


def test_registering_a_case_logs_templates_context_and_no_personal_data(
    client: TestClient, as_user: Any, json_log: JsonLog
) -> None:
    item = run(ensure_adopted("r63", DIBAO))
    token = as_user(CLERK)
    posted = client.post("/t/r63/cases/new", data=registration(item, token))
    assert posted.status_code == 303, posted.text[:500]
    case_id = int(posted.headers["location"].split("/cases/")[1].split("?")[0])
    assert client.get(f"/t/r63/cases/{case_id}").status_code == 200
    # (an ID typed into the search is redirected to the same list by its hash)
    assert client.get(f"/t/r63/cases?q={RESIDENT_ID}").status_code in (200, 303)
    assert client.get(f"/t/r63/cases?q={PHONE}&owner=me").status_code in (200, 303)
    clerk = user_id(CLERK)

    lines = json_log.access()
    post = the_line(lines, "POST", "/t/{slug}/cases/new")
    assert post["tenant"] == "r63" and post["user_id"] == clerk and post["status"] == 303
    assert post["request_id"] == posted.headers["x-request-id"]
    assert REQUEST_ID.match(post["request_id"])
    assert isinstance(post["duration_ms"], float) and post["duration_ms"] > 0
    assert post["level"] == "INFO" and post["time"].endswith("+00:00")
    detail = the_line(lines, "GET", "/t/{slug}/cases/{case_id}")
    assert (detail["tenant"], detail["user_id"], detail["status"]) == ("r63", clerk, 200)
    searches = [r for r in lines if r["route"] == "/t/{slug}/cases"]
    assert len(searches) == 2 and {r["status"] for r in searches} <= {200, 303}
    assert len({r["request_id"] for r in lines}) == len(lines)  # one id per request

    everything = json_log.text
    assert "?q=" not in everything and "owner=me" not in everything  # no query strings
    for secret in (RESIDENT_ID, RESIDENT_ID.lower(), PHONE, PASSWORD, APPLICANT, token):
        assert secret not in everything, secret
    assert f"/cases/{case_id}" not in everything  # templates, never raw paths


def test_login_lines_hold_neither_the_password_nor_the_username(
    client: TestClient, json_log: JsonLog
) -> None:
    login(client, MANAGER)
    lines = json_log.access()
    post = the_line(lines, "POST", "/login")
    assert post["status"] == 303 and post["user_id"] == user_id(MANAGER)
    assert PASSWORD not in json_log.text and MANAGER not in json_log.text


def test_every_line_of_a_request_and_its_exception_carry_the_context(
    app: Any, json_log: JsonLog
) -> None:
    async def noisy(request: Any) -> Any:
        logging.getLogger("bianmin.test").info("working on it")
        raise RuntimeError("boom")

    app.starlette.router.routes.insert(0, Route("/t/{slug}/ops-noisy", noisy))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        login(c, MANAGER)
        response = c.get("/t/r63/ops-noisy")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    mine = [r for r in json_log.records() if r.get("request_id") == request_id]
    by_logger = {r["logger"]: r for r in mine}
    assert set(by_logger) >= {"bianmin.test", "bianmin", "bianmin.access"}, by_logger
    manager = user_id(MANAGER)
    for record in mine:
        assert record["tenant"] == "r63" and record["user_id"] == manager, record
    assert "RuntimeError: boom" in by_logger["bianmin"]["exc_info"]
    access = by_logger["bianmin.access"]
    assert access["status"] == 500 and access["level"] == "WARNING"
    assert access["route"] == "/t/{slug}/ops-noisy"


def test_a_safe_request_id_from_the_proxy_is_kept_and_echoed(
    client: TestClient, json_log: JsonLog
) -> None:
    kept = client.get("/login", headers={"X-Request-ID": "nginx-5f0c2a9e77"})
    assert kept.headers["x-request-id"] == "nginx-5f0c2a9e77"
    for hostile in ("short", "with space in it", "x" * 65, 'quote"s-and;more'):
        replaced = client.get("/login", headers={"X-Request-ID": hostile})
        assert REQUEST_ID.match(replaced.headers["x-request-id"]), hostile
    ids = [r["request_id"] for r in json_log.access()]
    assert ids[0] == "nginx-5f0c2a9e77" and all(REQUEST_ID.match(i) for i in ids[1:])


@pytest.mark.parametrize(
    ("method", "path", "route", "status", "tenant"),
    [
        ("GET", "/t/r63/cases/77", "/t/{slug}/cases/{case_id}", 303, "r63"),  # login redirect
        ("GET", "/t/no-such-centre/", "/t/{slug}/", 404, "no-such-centre"),
        ("GET", f"/t/{PHONE}/", "/t/{slug}/", 404, None),  # not slug-shaped: not logged
        ("POST", "/t/r63/cases/new", "/t/{slug}/cases/new", 403, "r63"),  # CSRF, before routing
        ("GET", f"/no/such/page/{RESIDENT_ID}", "unmatched", 404, None),
        ("DELETE", "/login", "/login", 403, None),  # unsafe: CSRF first
        ("BREW", "/login", "/login", 403, None),
    ],
)
def test_answers_given_before_routing_still_log_the_template(
    client: TestClient,
    json_log: JsonLog,
    method: str,
    path: str,
    route: str,
    status: int,
    tenant: str | None,
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    [line] = json_log.access()
    assert (line["route"], line["status"], line["tenant"]) == (route, status, tenant)
    assert line["method"] == (method if method != "BREW" else "OTHER")
    assert PHONE not in json_log.text and RESIDENT_ID not in json_log.text


def test_text_format_is_one_readable_line() -> None:
    formatter = TextFormatter()
    record = logging.LogRecord("bianmin.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    token = enter(RequestContext("abcd1234abcd1234", {"path_params": {"slug": "r63"}}, 7))
    try:
        from app.ops.logs import ContextFilter

        ContextFilter().filter(record)
    finally:
        leave(token)
    line = formatter.format(record)
    assert line.endswith("INFO    bianmin.x [abcd1234abcd1234 r63 u7] hello you"), line
    plain = logging.LogRecord("bianmin.x", logging.INFO, __file__, 1, "plain", (), None)
    assert formatter.format(plain).endswith("INFO    bianmin.x plain")


SCRIPT = (
    "import logging; from app.ops import logs; logs.configure();"
    "logging.getLogger('bianmin.x').info('hello %s', 'there');"
    "logging.getLogger('botocore').info('quiet library');"
    "logging.getLogger('bianmin.x').debug('not at INFO')"
)


def _configure_in_a_process(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_configure_writes_json_by_default_and_text_on_request() -> None:
    as_json = _configure_in_a_process(LOG_FORMAT="json", LOG_LEVEL="INFO")
    assert as_json.returncode == 0, as_json.stderr
    [line] = as_json.stderr.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"]) == (
        "INFO",
        "bianmin.x",
        "hello there",
    )
    as_text = _configure_in_a_process(LOG_FORMAT="text")
    assert as_text.returncode == 0, as_text.stderr
    [line] = as_text.stderr.splitlines()
    assert line.endswith("INFO    bianmin.x hello there") and not line.startswith("{")
    debug = _configure_in_a_process(LOG_LEVEL="DEBUG")
    assert "not at INFO" in debug.stderr and "quiet library" not in debug.stderr
    wrong = _configure_in_a_process(LOG_FORMAT="xml")
    assert wrong.returncode != 0 and "LOG_FORMAT must be one of json, text" in wrong.stderr
