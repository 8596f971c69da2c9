"""Server-side sessions: the cookie holds a random id, the table holds its SHA-256.

The CSRF token lives on the session row.  Idle sessions expire after 30 minutes;
``last_seen`` is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import queries
from app.accounts.queries import UserInfo
from app.settings import settings
from app.web import i18n

COOKIE = "bm_session"
LANG_COOKIE = "bm_lang"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class Session:
    id: int
    csrf_token: str
    user: UserInfo | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _cookie_header(value: str, max_age: int | None) -> str:
    parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if settings.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


async def _load(token: str) -> Session | None:
    row = await queries.session_with_user(digest(token))
    if row is None:
        return None
    last_seen = row["last_seen"]
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=UTC)
    current = now()
    if current - last_seen > timedelta(minutes=settings.session_idle_minutes):
        await queries.delete_session(row["id"])
        return None
    if row["user_id"] is not None and not row["active"]:
        await queries.delete_session(row["id"])
        return None
    if current - last_seen > TOUCH_EVERY:
        await queries.touch_session(row["id"], current)
    user = None
    if row["user_id"] is not None:
        user = UserInfo(
            id=row["user_id"],
            username=row["username"],
            display_name=row["display_name"],
            locale=row["locale"] or "",
            is_platform_admin=bool(row["is_platform_admin"]),
            active=True,
            has_password=True,
        )
    return Session(id=row["id"], csrf_token=row["csrf_token"], user=user)


async def _create(scope: Scope, user_id: int | None) -> tuple[str, int, str]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session_id = await queries.create_session(digest(token), csrf, user_id, client_ip(scope))
    return token, session_id, csrf


async def ensure(request: Request) -> Session:
    """The request's session, created (anonymous) when it has none yet."""
    state = request.scope["state"]
    session: Session | None = state.get("session")
    if session is None:
        token, session_id, csrf = await _create(request.scope, None)
        session = Session(session_id, csrf, None)
        state["session"] = session
        state["set_session_cookie"] = token
    return session


async def login(request: Request, user: UserInfo) -> Session:
    """A fresh session id at login (no fixation); the old row is removed."""
    state = request.scope["state"]
    old: Session | None = state.get("session")
    if old is not None:
        await queries.delete_session(old.id)
    token, session_id, csrf = await _create(request.scope, user.id)
    session = Session(session_id, csrf, user)
    state["session"] = session
    state["set_session_cookie"] = token
    return session


async def logout(request: Request) -> None:
    state = request.scope["state"]
    old: Session | None = state.get("session")
    if old is not None:
        await queries.delete_session(old.id)
    state["session"] = None
    state["set_session_cookie"] = ""


def locale_for(scope: Scope, session: Session | None, cookies: dict[str, str]) -> str:
    if session and session.user and session.user.locale:
        return session.user.locale
    return i18n.normalize(cookies.get(LANG_COOKIE)) or i18n.DEFAULT_LOCALE


def parse_cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: v.value for k, v in jar.items()}
    return {}


class SessionMiddleware:
    """Loads the session (and its user) once per request; sets the locale."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        cookies = parse_cookies(scope)
        token = cookies.get(COOKIE)
        session = await _load(token) if token else None
        state["session"] = session
        state["set_session_cookie"] = "" if (token and session is None) else None
        reset = i18n.set_locale(locale_for(scope, session, cookies))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                value = state.get("set_session_cookie")
                if value is not None:
                    headers = MutableHeaders(scope=message)
                    max_age = 0 if value == "" else None
                    headers.append("Set-Cookie", _cookie_header(value, max_age))
                    headers.append("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n._current.reset(reset)
