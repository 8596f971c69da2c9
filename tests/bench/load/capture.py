"""What each benchmarked page does in the database, recorded once by running the app in this
process (its own ASGI app, the session cookie of the page's user) with the driver's calls
wrapped: asyncpg's ``Connection.fetch``/``execute`` (every statement of the pool's
connections, BEGIN and COMMIT included) or aiosqlite's ``Connection.execute``.

The bare page (bare.py) replays the data statements of a page — the same SQL with the same
arguments — after its own hand-written session lookup, inside one transaction whose RLS
settings are the ones the app set; so both pages do the same database work and the
difference between them is what the app adds around it.
"""

from __future__ import annotations

import contextlib
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SESSION_TABLE = re.compile(r'\b(FROM|UPDATE|INTO)\s+"?web_session"?', re.I)
# Transaction control, SQLite's per-connection pragma, and asyncpg's reset of a connection
# given back to the pool (``Connection.reset``: one round trip per release).
CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SELECT pg_advisory_unlock_all)\b", re.I
)
SCOPE = re.compile(r"set_config\('app\.read_ids'", re.I)


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...]
    kind: str  # session | control | scope | data


@dataclass
class Page:
    name: str
    path: str
    user_id: int
    status: int = 0
    html: str = ""  # the app's response (the bare page borrows its head and navigation)
    statements: list[Statement] = field(default_factory=list)

    @property
    def data(self) -> list[Statement]:
        """The statements the bare page runs: scope changes and data, in order (a scope
        statement only when its values change)."""
        out: list[Statement] = []
        current: tuple[Any, ...] | None = None
        for s in self.statements:
            if s.kind == "scope":
                if s.args != current:
                    out.append(s)
                    current = s.args
            elif s.kind == "data":
                out.append(s)
        return out

    def count(self, kind: str) -> int:
        return sum(1 for s in self.statements if s.kind == kind)

    @property
    def transactions(self) -> int:
        return sum(1 for s in self.statements if s.kind == "control" and "BEGIN" in s.sql.upper())

    @property
    def resets(self) -> int:
        return sum(1 for s in self.statements if "pg_advisory_unlock_all" in s.sql)

    def summary(self) -> str:
        return (
            f"{len(self.statements)} statements: {self.transactions} transactions,"
            f" {self.count('scope')} RLS set_config, {self.count('session')} session,"
            f" {self.resets} pool resets,"
            f" {self.count('data')} data; {len(self.html.encode()):,} bytes"
        )


def kind_of(sql: str) -> str:
    if SESSION_TABLE.search(sql):
        return "session"
    if CONTROL.match(sql):
        return "control"
    if SCOPE.search(sql):
        return "scope"
    return "data"


@contextlib.contextmanager
def recording() -> Iterator[list[Statement]]:
    """Every statement sent through asyncpg or aiosqlite while inside."""
    import aiosqlite
    from asyncpg.connection import Connection as PgConnection

    log: list[Statement] = []
    originals = {
        "fetch": PgConnection.fetch,
        "execute": PgConnection.execute,
        "lite": aiosqlite.Connection.execute,
    }

    def note(sql: str, args: Any) -> None:
        args = tuple(args[0]) if len(args) == 1 and isinstance(args[0], list | tuple) else args
        log.append(Statement(sql, tuple(args), kind_of(sql)))

    async def fetch(self: Any, query: str, *args: Any, **kw: Any) -> Any:
        note(query, args)
        return await originals["fetch"](self, query, *args, **kw)

    async def execute(self: Any, query: str, *args: Any, **kw: Any) -> Any:
        note(query, args)
        return await originals["execute"](self, query, *args, **kw)

    def lite(self: Any, sql: str, parameters: Any = None) -> Any:
        note(sql, (list(parameters),) if parameters else ())
        return originals["lite"](self, sql, parameters)

    PgConnection.fetch = fetch  # type: ignore[method-assign]
    PgConnection.execute = execute  # type: ignore[method-assign]
    aiosqlite.Connection.execute = lite  # type: ignore[method-assign]
    try:
        yield log
    finally:
        PgConnection.fetch = originals["fetch"]  # type: ignore[method-assign]
        PgConnection.execute = originals["execute"]  # type: ignore[method-assign]
        aiosqlite.Connection.execute = originals["lite"]  # type: ignore[method-assign]


async def call(app: Any, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET through an ASGI app, in process."""
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


async def capture(pages: dict[str, tuple[str, Any]]) -> list[Page]:
    """Each page twice through the app (the second call is recorded); a page that does not
    answer 200 stops the benchmark."""
    from app.main import create_app

    app = create_app()
    out = []
    for name, (path, login) in pages.items():
        page = Page(name, path, login.user_id)
        await call(app, path, login.cookie)
        with recording() as log:
            status, body = await call(app, path, login.cookie)
        page.status, page.html, page.statements = status, body.decode(), list(log)
        if status != 200:
            raise RuntimeError(f"benchmark: {name} ({path}) answered {status}")
        out.append(page)
    return out


def save(pages: list[Page], path: Path) -> None:
    path.write_bytes(pickle.dumps(pages))


def load(path: Path) -> list[Page]:
    found: list[Page] = pickle.loads(path.read_bytes())  # noqa: S301 (our own file)
    return found
