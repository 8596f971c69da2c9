"""The bare page: Starlette + Jinja2 + asyncpg (or one shared aiosqlite connection) doing the
database work of the app's page by hand, as the yardstick of the load benchmark.

Per request: the session row by the cookie's SHA-256 (hand-written join with its user; an
idle session answers a redirect, ``last_seen`` is written at most once a minute, as the app
does), then ONE transaction on one pooled connection: the RLS settings with
``set_config(…, true)`` and the page's data statements — the very SQL and arguments the app's
page ran, recorded by capture.py — and the page rendered from those rows by a small template
of the same shape (head and menu, the same tables, cards and grid cells).  SQLite has no RLS
and needs no transaction for reads.

Run by the benchmark with the same server and worker count as the app::

    BENCH_BARE_PAGES=/tmp/…/pages.pickle BENCH_BARE_DB=postgresql://… \\
        uvicorn --factory tests.bench.load.bare:create_app
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.bench.load.bare_views import VIEWS, Results
from tests.bench.load.capture import Page

SHANGHAI = ZoneInfo("Asia/Shanghai")
IDLE = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
TOUCH = timedelta(minutes=1)
SESSION_PG = (
    "SELECT s.id, s.csrf_token, s.last_seen, u.id AS user_id, u.username, u.display_name,"
    " u.locale, u.is_platform_admin, u.active FROM web_session s"
    " LEFT JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = $1"
)
SESSION_LITE = SESSION_PG.replace("$1", "?")
LINK = re.compile(r'<a (?:class="[^"]*" )?href="([^"]+)"[^>]*>([^<]+)</a>')


def local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(SHANGHAI).strftime(fmt))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    return env


def chrome(page: Page) -> dict[str, Any]:
    """The menu links and title of the app's page (rendered again per request)."""
    head, _, _ = page.html.partition("<main")
    title = re.search(r"<title>([^<]*)</title>", head)
    return {"links": LINK.findall(head), "title": title.group(1) if title else page.name}


def cookie_token(request: Request) -> str:
    return request.cookies.get("bm_session", "")


class Database:
    """PostgreSQL through an asyncpg pool, or SQLite through one shared connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = not url.startswith("postgres")
        self.pool: Any = None
        self.lite: Any = None

    async def open(self) -> None:
        if self.sqlite:
            import aiosqlite

            self.lite = await aiosqlite.connect(self.url.removeprefix("sqlite:///"))
            self.lite.row_factory = aiosqlite.Row
            await self.lite.execute("PRAGMA journal_mode=WAL")
            return
        import asyncpg

        self.pool = await asyncpg.create_pool(
            self.url,
            min_size=int(os.environ.get("DB_POOL_MIN_SIZE", "1")),
            max_size=int(os.environ.get("DB_POOL_MAX_SIZE", "10")),
            server_settings={"plan_cache_mode": "force_custom_plan"},  # as app/db.py
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.lite is not None:
            await self.lite.close()

    async def run(self, token: str, page: Page) -> tuple[dict[str, Any] | None, Results]:
        digest = hashlib.sha256(token.encode()).hexdigest()
        if self.sqlite:
            return await self._run_lite(digest, page)
        async with self.pool.acquire() as con:
            session = await con.fetchrow(SESSION_PG, digest)
            if not await self._fresh(session, con.execute, "$1", "$2"):
                return None, []
            out: Results = []
            async with con.transaction():
                for s in page.data:
                    out.append((s, await con.fetch(s.sql, *s.args)))
            return dict(session), out

    async def _run_lite(self, digest: str, page: Page) -> tuple[dict[str, Any] | None, Results]:
        async with self.lite.execute(SESSION_LITE, (digest,)) as cursor:
            session = await cursor.fetchone()

        async def execute(sql: str, *args: Any) -> None:
            await self.lite.execute(sql, args)
            await self.lite.commit()

        if not await self._fresh(session, execute, "?", "?"):
            return None, []
        out: Results = []
        for s in page.data:
            if s.kind == "scope":
                continue
            async with self.lite.execute(s.sql, s.args) as cursor:
                out.append((s, list(await cursor.fetchall())))
        return dict(session), out

    @staticmethod
    async def _fresh(session: Any, execute: Callable[..., Any], p1: str, p2: str) -> bool:
        """The app's rules: idle past the timeout or a deactivated user → no session."""
        if session is None or (session["user_id"] is not None and not session["active"]):
            return False
        last = session["last_seen"]
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if now - last > IDLE:
            return False
        if now - last > TOUCH:
            await execute(
                f"UPDATE web_session SET last_seen = {p1} WHERE id = {p2}", now, session["id"]
            )
        return True


def create_app() -> Starlette:
    from tests.bench.load import capture

    pages = {p.path: p for p in capture.load(Path(os.environ["BENCH_BARE_PAGES"]))}
    database = Database(os.environ["BENCH_BARE_DB"])
    env = environment()
    chromes = {path: chrome(p) for path, p in pages.items()}

    async def endpoint(request: Request) -> Response:
        page = pages.get(request.url.path)
        if page is None:
            return PlainTextResponse("not found", status_code=404)
        session, results = await database.run(cookie_token(request), page)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        if session["user_id"] != page.user_id:
            return PlainTextResponse("not found", status_code=404)
        view, template = VIEWS[page.name]
        ctx = {**chromes[page.path], **view(results), "session": session, "path": page.path}
        return HTMLResponse(env.get_template(template).render(ctx))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.open()
        try:
            yield
        finally:
            await database.close()

    return Starlette(routes=[Route("/{path:path}", endpoint)], lifespan=lifespan)
