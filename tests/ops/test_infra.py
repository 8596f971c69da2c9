"""infra/: the nginx sites (checked by nginx itself and run in front of a stub), the public
host's routes against the app's own idea of public, every setting documented, the systemd
units, the compose file (parsed only: no container engine here) and its role script."""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml  # PyYAML comes with moto[server] (dev dependency)
from starlette.routing import Mount, Route

from app.ops.access import request_id_of
from app.tenancy.middleware import is_public
from tests.conftest import PG_ADMIN, _with
from tests.ops.infra_harness import (
    EXTRAS,
    INFRA,
    LIBRARY_READERS,
    NGINX,
    OPENSSL,
    PUBLIC_HOST,
    ROOT,
    STAFF_HOST,
    Proxy,
    check,
    documented,
    free_port,
    package_mentions,
    prefix,
    public_action,
    read_by_app,
)

needs_nginx = pytest.mark.skipif(
    NGINX is None or OPENSSL is None,
    reason="nginx or openssl is not installed (Debian: apt-get install nginx-light openssl)",
)

# --- nginx accepts the site files ---------------------------------------------------------


@needs_nginx
@pytest.mark.parametrize("sites", [["staff"], ["public"], ["staff", "public"]])
def test_nginx_accepts_the_sites(tmp_path: Path, sites: list[str]) -> None:
    result = check(prefix(tmp_path, sites, free_port(), free_port(), 8000))
    assert result.returncode == 0, result.stderr
    assert "[emerg]" not in result.stderr and "[warn]" not in result.stderr, result.stderr


# --- the public host lets through exactly what the app calls public -----------------------

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _sample(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, _, convertor = match.group(1).partition(":")
        if name == "slug":
            return "c-huacheng"
        return "7" if convertor == "int" else "a1"

    return re.sub(r"\{([^}]+)\}", value, path)


def test_public_host_follows_the_app() -> None:
    from app.main import create_app

    checked = 0
    for route in create_app().routes:
        if isinstance(route, Mount):
            assert route.path == "/static", route.path
            assert public_action("/static/css/track.css", "GET") == "static"
            continue
        assert isinstance(route, Route), route
        path = _sample(route.path)
        for method in METHODS:
            through = public_action(path, method) == "proxy"
            want = is_public(path, method) or (route.path, method) in EXTRAS
            assert through == want, f"{method} {route.path}: proxy {through}, app public {want}"
            checked += through and method in (route.methods or ())
    assert checked >= 15, checked  # guide, power list, screen, track, rating, language …
    for raw in ("/t/x/guidebook", "/t/x/trackx", "/t/x/screens", "/t/x/cases/../guide"):
        for method in ("GET", "POST"):
            assert (public_action(raw, method) == "proxy") == is_public(raw, method), raw


# --- a live nginx in front of a stub ------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if NGINX is None or OPENSSL is None:
        pytest.skip("nginx or openssl is not installed (Debian: apt-get install nginx-light)")
    running = Proxy(tmp_path_factory.mktemp("nginx"))
    yield running
    running.close()


PUBLIC_CASES = [
    ("GET", "/t/c-huacheng/guide", True),
    ("GET", "/t/c-huacheng/guide/a1/sample/0", True),
    ("GET", "/t/c-huacheng/power-list", True),
    ("GET", "/t/c-huacheng/screen", True),
    ("GET", "/t/c-huacheng/track", True),
    ("POST", "/t/c-huacheng/track", True),
    ("POST", "/t/c-huacheng/track/rate", True),
    ("POST", "/language", True),
    ("POST", "/t/c-huacheng/guide", False),
    ("POST", "/t/d4/power-list/publish", False),
    ("GET", "/language", False),
    ("GET", "/", False),
    ("GET", "/login", False),
    ("POST", "/login", False),
    ("GET", "/healthz", False),
    ("GET", "/metrics", False),
    ("GET", "/t/c-huacheng/", False),
    ("GET", "/t/c-huacheng/cases", False),
    ("GET", "/t/c-huacheng/guidebook", False),
    ("GET", "/t/c-huacheng/cases/../guide", False),
    ("GET", "/t/c-huacheng/guide/..%2F..%2Fcases", False),
    ("GET", "//t/c-huacheng/cases", False),
]


@pytest.mark.parametrize(("method", "path", "through"), PUBLIC_CASES)
def test_public_host_routes(proxy: Proxy, method: str, path: str, through: bool) -> None:
    before = len(proxy.reached(path, method))
    answer = proxy.request(PUBLIC_HOST, method, path, body=b"" if method == "POST" else None)
    assert answer.status == (200 if through else 404), (method, path, answer.status)
    assert len(proxy.reached(path, method)) == before + through


def test_headers_for_the_app_and_a_log_without_queries(proxy: Proxy) -> None:
    path = "/t/c-huacheng/track?number=C-2026-0001&code=SECRET42"
    answer = proxy.request(PUBLIC_HOST, "GET", path, headers={"X-Forwarded-For": "6.6.6.6"})
    assert answer.status == 200
    seen = proxy.reached(path)[-1]
    assert seen.headers["X-Forwarded-For"] == "127.0.0.1"  # not what the client claimed
    assert seen.headers["X-Forwarded-Proto"] == "https"
    assert seen.headers["X-Forwarded-Host"] == PUBLIC_HOST
    request_id = seen.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    # The app takes nginx's id for its own log lines (app/ops/access.py).
    assert request_id_of({"headers": [(b"x-request-id", request_id.encode())]}) == request_id
    log = proxy.log("bianmin-public.access.log", waiting_for=request_id)
    assert f"rid={request_id}" in log
    assert "/t/c-huacheng/track " in log
    assert "SECRET42" not in log and "number=" not in log
    proxy.request(STAFF_HOST, "GET", "/password/set/TOKEN0123456789")
    proxy.request(STAFF_HOST, "GET", "/t/c-huacheng/cases?q=110101199003071234")
    staff_log = proxy.log("bianmin.access.log", waiting_for="/t/c-huacheng/cases ")
    assert "/password/set/- " in staff_log and "TOKEN0123456789" not in staff_log
    assert "/t/c-huacheng/cases " in staff_log and "110101" not in staff_log


def test_static_files_from_disk(proxy: Proxy) -> None:
    for host in (STAFF_HOST, PUBLIC_HOST):
        answer = proxy.request(host, "GET", "/static/css/app.css")
        assert answer.status == 200
        assert answer.body == (ROOT / "static" / "css" / "app.css").read_bytes()
        assert "max-age=3600" in answer.all("Cache-Control")
        assert answer.all("X-Content-Type-Options") == ["nosniff"]
        assert answer.all("Strict-Transport-Security") == ["max-age=31536000"]
        vendor = proxy.request(host, "GET", "/static/vendor/htmx-2.0.11.min.js")
        assert vendor.status == 200
        assert any("immutable" in v for v in vendor.all("Cache-Control"))
    assert not [s for s in proxy.stub.seen if s.path.startswith("/static/")]


def test_upload_size_limits(proxy: Proxy) -> None:
    mb = 1024 * 1024
    fits = proxy.request(STAFF_HOST, "POST", "/t/c-huacheng/cases/new", body=b"x" * (24 * mb))
    assert fits.status == 200
    assert proxy.reached("/t/c-huacheng/cases/new")[-1].body_length == 24 * mb
    too_big = proxy.request(STAFF_HOST, "POST", "/t/c-huacheng/files", body=b"x" * (26 * mb))
    assert too_big.status == 413 and not proxy.reached("/t/c-huacheng/files")
    public = proxy.request(PUBLIC_HOST, "POST", "/t/x/track", body=b"x" * (100 * 1024))
    assert public.status == 413


def test_staff_host_proxies_with_the_apps_own_headers(proxy: Proxy) -> None:
    page = proxy.request(
        STAFF_HOST, "GET", "/t/c-huacheng/cases", headers={"Accept-Encoding": "gzip"}
    )
    assert page.status == 200
    assert page.all("Strict-Transport-Security") == ["max-age=31536000"]  # the app's, once
    assert page.all("Content-Encoding") == ["gzip"]
    assert gzip.decompress(page.body).startswith(b"<!doctype html>")
    metrics = proxy.request(STAFF_HOST, "GET", "/metrics")
    assert metrics.status == 404 and not proxy.reached("/metrics")
    plain = proxy.request(STAFF_HOST, "GET", "/t/c-huacheng/cases?x=1", tls=False)
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{STAFF_HOST}/t/c-huacheng/cases?x=1"


def test_public_host_limits_a_flood(proxy: Proxy) -> None:  # last of the live tests
    statuses = proxy.burst(PUBLIC_HOST, "/t/c-huacheng/screen", 80)
    assert statuses[:30] == [200] * 30  # a hall screen and a queue of phones pass
    assert 429 in statuses
    assert proxy.request(STAFF_HOST, "GET", "/t/c-huacheng/cases").status == 200  # staff unaffected


# --- every setting documented, nothing documented that nobody reads -----------------------


def test_env_example_documents_every_setting() -> None:
    sections = documented()
    assert len(sections) == 3, list(sections)
    app, libraries, hooks = sections.values()
    assert not (app & libraries) and not (app & hooks) and not (libraries & hooks)
    reads = read_by_app()
    assert {"DATABASE_URL", "BROKER_URL", "STORAGE_URL", "ID_HASH_KEY"} <= reads
    missing = reads - app - hooks - libraries
    assert not missing, f"read by app/ but not in infra/env.example: {sorted(missing)}"
    assert app <= reads, f"documented but never read: {sorted(app - reads)}"
    assert hooks <= reads, f"documented hooks never read: {sorted(hooks - reads)}"
    assert all(n.startswith(("BIANMIN_", "DEMO_")) for n in hooks), hooks
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    for name in libraries:
        reader = LIBRARY_READERS.get(name)
        assert reader, f"{name}: who reads it? (LIBRARY_READERS)"
        found = name in procfile if reader == "Procfile" else package_mentions(reader, name)
        assert found, f"{name} is not read by {reader}"


def test_units_set_only_documented_variables() -> None:
    names = set().union(*documented().values())
    for unit in (INFRA / "systemd").iterdir():
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith("Environment="):
                for pair in line.removeprefix("Environment=").split():
                    assert pair.split("=")[0] in names | {"PYTHONUNBUFFERED"}, (unit.name, pair)


# --- systemd units -------------------------------------------------------------------------

UNITS = {
    "release": "bianmin-release.service",
    "web": "bianmin-web@.service",
    "worker": "bianmin-worker.service",
    "scheduler": "bianmin-scheduler.service",
}


def unit_text(name: str) -> str:
    return (INFRA / "systemd" / name).read_text(encoding="utf-8")


def test_units_run_the_procfile_commands() -> None:
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(procfile) == set(UNITS)
    for process, unit in UNITS.items():
        text = unit_text(unit)
        command = re.search(r"^ExecStart=\S+/\.venv/bin/python (.*)$", text, re.M)
        assert command, unit
        words = procfile[process].split()
        assert ["python", *command.group(1).split()[:3]] == words[:4], (unit, command.group(1))
        for option in (w for w in words if w.startswith("--") and w != "--host"):
            assert option in command.group(1), (unit, option)
        assert "User=bianmin" in text and "EnvironmentFile=/etc/bianmin/env" in text
        for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"):
            assert setting in text, (unit, setting)
        assert "ReadWritePaths=/var/lib/bianmin" in text
        maintenance = "EnvironmentFile=/etc/bianmin/maintenance.env" in text
        assert maintenance == (process == "release"), unit  # only release holds that role
        if process == "release":
            assert "Type=oneshot" in text
        else:
            assert "Restart=always" in text and "After=" in text and "bianmin-release" in text
    target = unit_text("bianmin.target")
    for wanted in ("bianmin-release.service", "bianmin-web@8000.service", "bianmin-scheduler"):
        assert wanted in target


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    for name in ("env", "maintenance.env"):
        (tmp_path / "etc" / name).write_text("")
    for unit in (INFRA / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/srv/bianmin/app/.venv/bin/python", str(ROOT / ".venv/bin/python"))
        text = text.replace("/etc/bianmin/", f"{tmp_path}/etc/")
        (tmp_path / unit.name).write_text(text.replace("/srv/bianmin/app", str(ROOT)))
    names = ["bianmin.target", "bianmin-web@8000.service"]
    names += [UNITS["release"], UNITS["worker"], UNITS["scheduler"]]
    result = subprocess.run(
        ["systemd-analyze", "verify", *(f"./{n}" for n in names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"Unknown|Failed to parse|Invalid|not executable", result.stderr), (
        result.stderr
    )


# --- compose (not run: no container engine here) --------------------------------------------


def test_compose_file() -> None:
    text = (INFRA / "compose" / "compose.yaml").read_text(encoding="utf-8")
    assert "NOT RUN HERE" in text
    compose = yaml.safe_load(text)
    services = compose["services"]
    assert {"postgres", "redis", "seaweedfs"} <= set(services)
    assert services["postgres"]["image"] in ("postgres:15", "postgres:16")
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)  # never on every interface
    import json

    s3 = json.loads((INFRA / "compose" / "s3.json").read_text(encoding="utf-8"))
    keys = [c["accessKey"] for i in s3["identities"] for c in i["credentials"]]
    env = (INFRA / "env.example").read_text(encoding="utf-8")
    assert f"AWS_ACCESS_KEY_ID={keys[0]}" in env
    storage = re.search(r"^STORAGE_URL=(.*)$", env, re.M)
    assert storage and "127.0.0.1:8333" in storage.group(1)
    assert "127.0.0.1:8333:8333" in services["seaweedfs"]["ports"]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_ADMIN, reason="PostgreSQL only (TEST_PG_ADMIN_URL)")
@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_compose_roles_script_gives_a_database_release_can_migrate(tmp_path: Path) -> None:
    suffix = os.urandom(3).hex()
    maint, app_role, database = f"bm_cm_{suffix}", f"bm_ca_{suffix}", f"bm_cdb_{suffix}"
    script = (INFRA / "compose" / "initdb" / "10-roles.sql").read_text(encoding="utf-8")
    script = re.sub(r"\bbianmin_maint\b", maint, script)
    script = re.sub(r"\bbianmin_app\b", app_role, script)
    (tmp_path / "roles.sql").write_text(re.sub(r"\bbianmin\b", database, script))
    admin = urlparse(PG_ADMIN)

    async def drop() -> None:
        import asyncpg

        con = await asyncpg.connect(PG_ADMIN)
        try:
            await con.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            await con.execute(f"DROP ROLE IF EXISTS {maint}")
            await con.execute(f"DROP ROLE IF EXISTS {app_role}")
        finally:
            await con.close()

    try:
        psql = subprocess.run(
            [
                *("psql", "-v", "ON_ERROR_STOP=1", "-q", "-h", admin.hostname or "127.0.0.1"),
                *("-p", str(admin.port or 5432), "-U", admin.username or "postgres"),
                *("-d", admin.path.lstrip("/") or "postgres", "-f", str(tmp_path / "roles.sql")),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert psql.returncode == 0, psql.stderr
        env = {
            **os.environ,
            "DATABASE_URL": _with(PG_ADMIN, app_role, database),
            "MAINTENANCE_DATABASE_URL": _with(PG_ADMIN, maint, database),
        }
        result = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "app", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        asyncio.run(drop())
