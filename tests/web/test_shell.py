"""The web shell: headers on every response, fragments from the same URL, error pages, health."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import login


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["content-security-policy"]
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/healthz", 200),
        ("GET", "/t/no-such-centre/", 404),
        ("GET", "/no/such/page", 404),
        ("POST", "/login", 403),
        ("GET", "/static/css/app.css", 200),
        ("PUT", "/login", 403),
    ],
)
def test_security_headers_on_every_response(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    _assert_security_headers(response)


def test_security_headers_on_500(app) -> None:  # type: ignore[no-untyped-def]
    from starlette.routing import Route

    async def boom(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app.starlette.router.routes.append(Route("/test-boom", boom))
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/test-boom")
    assert response.status_code == 500
    assert "boom" not in response.text
    _assert_security_headers(response)


def test_unknown_tenant_is_a_chinese_404(client: TestClient) -> None:
    response = client.get("/t/nowhere/")
    assert response.status_code == 404
    assert "页面不存在" in response.text or "Page not found" in response.text
    assert '<html lang="zh-Hans">' in response.text


def test_fragment_and_full_page_from_the_same_url(client: TestClient) -> None:
    login(client, "r63-zhoujianguo")
    full = client.get("/t/r63/")
    part = client.get("/t/r63/", headers={"HX-Request": "true"})
    boosted = client.get("/t/r63/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert full.status_code == part.status_code == 200
    assert full.text.lstrip().startswith("<!doctype html>")
    assert part.text.lstrip().startswith('<main id="content"')
    assert "<html" not in part.text
    assert boosted.text.lstrip().startswith("<!doctype html>")
    for response in (full, part, boosted):
        assert "HX-Request" in response.headers["vary"]
    assert "六十三团便民服务中心" in part.text


def test_tenant_home_shows_name_kind_parent_and_children(client: TestClient) -> None:
    login(client, "d4-liuhong")
    page = client.get("/t/d4/").text
    assert "第四师行政服务中心" in page
    for child in ("六十三团便民服务中心", "六十八团便民服务中心"):
        assert child in page
    regiment = client.get("/t/r63/")
    assert regiment.status_code == 200  # a division supervisor reads the subtree
    assert "第四师行政服务中心" in regiment.text  # parent


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    response = client.get("/t/r63/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/t/r63/"
    htmx = client.get("/t/r63/", headers={"HX-Request": "true"})
    assert htmx.headers.get("hx-redirect", "").startswith("/login")


def test_open_redirect_is_refused(client: TestClient) -> None:
    from tests.conftest import PASSWORD, csrf_of

    token = csrf_of(client)
    response = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": token, "username": "r68-liguohua", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_session_cookie_flags(client: TestClient) -> None:
    client.get("/login")
    cookie = client.get("/login").headers.get("set-cookie") or ""
    first = TestClient(client.app).get("/login").headers["set-cookie"]
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in first
    assert cookie == "" or "HttpOnly" in cookie


def test_healthz_reports_a_dead_database(app) -> None:  # type: ignore[no-untyped-def]
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.engine.sqlite import SQLiteEngine

    from app import db

    good = db.engine()
    if db.is_postgres():
        db.use_engine(PostgresEngine(config={"dsn": "postgresql://nobody@127.0.0.1:1/none"}))
    else:
        db.use_engine(SQLiteEngine(path="/dev/null/cannot/x.db"))
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            response = c.get("/healthz")
    finally:
        db.use_engine(good)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"].startswith("error: ")
    assert body["broker"] == body["storage"] == "ok"  # each part on its own (tests/ops)


def test_healthz_reports_each_part(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers  # no session for a probe


def test_htmx_is_vendored_and_configured(client: TestClient) -> None:
    page = client.get("/login").text
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert '"allowEval": false' in page and '"includeIndicatorStyles": false' in page
    assert "<script>" not in page and "style=" not in page and "hx-on" not in page
    js = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert js.status_code == 200 and 'version:"2.0.11"' in js.text.replace(" ", "")


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("xa-manager", "/t/xa/"),
        ("xa-manager", "/t/xa/staff"),
        ("xa-manager", "/t/xa/audit"),
        ("xa-manager", "/password"),
        ("xa-manager", "/"),
        ("admin", "/admin/tenants"),
        ("admin", "/admin/audit"),
        (None, "/login"),
    ],
)
def test_every_page_renders_full_and_as_a_fragment(
    client: TestClient, username: str | None, path: str
) -> None:
    if username:
        login(client, username)
    full = client.get(path, follow_redirects=True)
    part = client.get(path, headers={"HX-Request": "true"}, follow_redirects=True)
    assert full.status_code == part.status_code == 200
    assert "<!doctype html>" in full.text
    assert "<html" not in part.text and 'id="content"' in part.text
