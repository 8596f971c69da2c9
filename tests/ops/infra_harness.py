"""infra/ under test: a throwaway nginx running infra/nginx/*.conf (self-signed certificates,
a stub upstream), what the public site lets through, and what infra/env.example documents.

The site files are copied into a temporary prefix with their placeholders replaced (ports,
certificate paths, log directory, the static directory, the upstream's address); nothing
else changes, so what is tested is what an operator installs.
"""

from __future__ import annotations

import http.client
import importlib.util
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
NGINX_DIR = INFRA / "nginx"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
OPENSSL = shutil.which("openssl")
STAFF_HOST = "bianmin.d4.internal"
PUBLIC_HOST = "bianmin.example.cn"
FOREGROUND = "daemon off; master_process off;"  # one process, stopped by the test
SITES = {"staff": "bianmin.conf", "public": "bianmin-public.conf"}
PAGE = ("<!doctype html><title>stub</title>" + "<p>Service guide row</p>" * 200).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def certificate(directory: Path) -> tuple[Path, Path]:
    crt, key = directory / "test.crt", directory / "test.key"
    subprocess.run(
        [
            *(OPENSSL or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-days", "2", "-subj", "/CN=bianmin-test", "-keyout", str(key), "-out", str(crt)),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


def prefix(
    base: Path, sites: list[str], http_port: int, https_port: int, upstream_port: int
) -> Path:
    """An nginx prefix with infra/nginx installed as bianmin/ and a minimal nginx.conf."""
    conf = base / "conf"
    (conf / "bianmin").mkdir(parents=True)
    (base / "logs").mkdir()
    crt, key = certificate(conf)
    replace = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/var/log/nginx/": f"{base}/logs/",
        "/srv/bianmin/app/static/": f"{ROOT}/static/",
        "127.0.0.1:8000": f"127.0.0.1:{upstream_port}",
        "127.0.0.1:8001": f"127.0.0.1:{upstream_port}",
    }
    for source in NGINX_DIR.glob("*.conf"):
        text = source.read_text(encoding="utf-8")
        text = "\n".join(line for line in text.splitlines() if "listen [::]" not in line)
        for old, new in replace.items():
            text = text.replace(old, new)
        for cert_kind in ("staff", "public"):
            text = text.replace(f"/etc/ssl/bianmin/{cert_kind}.crt", str(crt))
            text = text.replace(f"/etc/ssl/bianmin/{cert_kind}.key", str(key))
        (conf / "bianmin" / source.name).write_text(text, encoding="utf-8")
    temp = (
        " ".join(
            f"{kind}_temp_path {base}/tmp_{kind};" for kind in ("client_body", "proxy", "fastcgi")
        )
        + f" uwsgi_temp_path {base}/tmp_uwsgi; scgi_temp_path {base}/tmp_scgi;"
    )
    includes = "\n".join(f"    include bianmin/{SITES[s]};" for s in sites)
    (conf / "nginx.conf").write_text(
        f"pid {base}/nginx.pid;\nerror_log {base}/logs/error.log;\nevents {{}}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    {temp}\n"
        f"    access_log {base}/logs/other.log;\n"
        f"    include bianmin/bianmin-common.conf;\n{includes}\n}}\n",
        encoding="utf-8",
    )
    return base


def check(base: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NGINX), "-t", "-p", str(base), "-c", "conf/nginx.conf"],
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body_length: int


@dataclass
class Stub:
    """The web processes' stand-in: records each request, answers a text/html page."""

    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.seen.append(Seen(self.command, self.path, dict(self.headers), len(body)))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                # What the app sets itself (app/web/security.py): nginx must not add another.
                self.send_header("Strict-Transport-Security", "max-age=31536000")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(PAGE)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


class Proxy:
    """nginx serving both sites in front of a :class:`Stub`."""

    def __init__(self, base: Path) -> None:
        self.stub = Stub()
        upstream = self.stub.start()
        self.http_port, self.https_port = free_port(), free_port()
        self.base = prefix(base, ["staff", "public"], self.http_port, self.https_port, upstream)
        result = check(self.base)
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        self.process = subprocess.Popen(
            [str(NGINX), "-p", str(self.base), "-c", "conf/nginx.conf", "-g", FOREGROUND],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stub.stop()

    def request(
        self,
        host: str,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        tls: bool = True,
    ) -> Answer:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, context=context, timeout=30
            )
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()

    def burst(self, host: str, path: str, n: int) -> list[int]:
        """``n`` GETs one after another on one kept-alive TLS connection: their statuses."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=context)
        statuses = []
        try:
            for _ in range(n):
                conn.request("GET", path, headers={"Host": host})
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
        finally:
            conn.close()
        return statuses

    def log(self, name: str, waiting_for: str = "") -> str:
        """The access log ``name`` (nginx writes a line once the response has gone out:
        wait up to 5 s for one holding ``waiting_for``)."""
        deadline = time.monotonic() + 5
        while True:
            text = (self.base / "logs" / name).read_text(encoding="utf-8")
            if waiting_for in text or time.monotonic() > deadline:
                return text
            time.sleep(0.02)

    def reached(self, path: str, method: str | None = None) -> list[Seen]:
        return [s for s in self.stub.seen if s.path == path and method in (None, s.method)]


# --- the public site's locations ---------------------------------------------------------


# Routes outside /t/<slug>/ the public pages need, with the reason.
EXTRAS = {("/language", "POST"): "the track page's language switch (a cookie, then back)"}


def _blocks(text: str) -> Iterator[tuple[str, str]]:
    """(header, body) of every `location … { … }` (nested braces counted)."""
    for match in re.finditer(r"^\s*location\s+([^{]+)\{", text, re.M):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        yield match.group(1).strip(), text[match.end() : i - 1]


def public_locations() -> list[tuple[str, str, set[str] | None, str]]:
    """(modifier, pattern, methods or None for any, action) of the public HTTPS server."""
    text = (NGINX_DIR / "bianmin-public.conf").read_text(encoding="utf-8")
    server = text[text.index("listen 443") :]
    found = []
    for header, body in _blocks(server):
        parts = header.split()
        modifier, pattern = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
        limit = re.search(r"\$request_method !~ \^\(([A-Z|]+)\)\$", body)
        methods = set(limit.group(1).split("|")) if limit else None
        if "bianmin/proxy.conf" in body:
            action = "proxy"
        elif "bianmin/static.conf" in body:
            action = "static"
        else:
            action = "nginx"
        found.append((modifier, pattern, methods, action))
    return found


def public_trick(raw_path: str) -> bool:
    text = (NGINX_DIR / "bianmin-public.conf").read_text(encoding="utf-8")
    rule = re.search(r'if \(\$request_uri ~ "([^"]+)"\)', text)
    assert rule, "the public site refuses path tricks before choosing a location"
    return bool(re.search(rule.group(1), raw_path))


def public_action(path: str, method: str) -> str:
    """What the public site does with a request: nginx's location choice (exact, then
    regexes in order, then the longest prefix) and the location's method limit."""
    if public_trick(path):
        return "refused"
    locations = public_locations()
    chosen = next((loc for loc in locations if loc[0] == "=" and loc[1] == path), None)
    chosen = chosen or next(
        (loc for loc in locations if loc[0] == "~" and re.search(loc[1], path)), None
    )
    if chosen is None:
        prefixes = [loc for loc in locations if loc[0] == "" and path.startswith(loc[1])]
        chosen = max(prefixes, key=lambda loc: len(loc[1]))
    _, _, methods, action = chosen
    return action if methods is None or method in methods else "refused"


# --- infra/env.example ---------------------------------------------------------------------

READS = re.compile(
    r'(?:environ\.get|getenv|_int|_bool|_choice|_networks)\(\s*"([A-Z][A-Z0-9_]*)"'
    r'|environ\[\s*"([A-Z][A-Z0-9_]*)"\s*\]'
)
# Read by the Procfile or a library, not by app/ (where to look for the name).
LIBRARY_READERS = {
    "WEB_CONCURRENCY": "Procfile",
    "WORKER_THREADS": "Procfile",
    "FORWARDED_ALLOW_IPS": "uvicorn",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client",
    "AWS_ACCESS_KEY_ID": "botocore",
    "AWS_SECRET_ACCESS_KEY": "botocore",
}


def read_by_app() -> set[str]:
    names: set[str] = set()
    for path in [*(ROOT / "app").rglob("*.py"), ROOT / "piccolo_conf.py"]:
        for match in READS.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names


def documented() -> dict[str, set[str]]:
    """Section title → the variables it names (``NAME=…`` or commented ``#NAME=…``)."""
    sections: dict[str, set[str]] = {}
    current = ""
    for line in (INFRA / "env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("# === "):
            current = line.strip("# =")
            sections[current] = set()
        elif match := re.match(r"#?([A-Z][A-Z0-9_]*)=", line):
            assert current, f"{line!r} before the first section"
            sections[current].add(match.group(1))
    return sections


def package_mentions(package: str, name: str) -> bool:
    spec = importlib.util.find_spec(package)
    assert spec and spec.submodule_search_locations, package
    folder = Path(next(iter(spec.submodule_search_locations)))
    return any(name in p.read_text(errors="ignore") for p in folder.rglob("*.py"))
