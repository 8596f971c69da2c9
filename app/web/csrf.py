"""CSRF: every unsafe request carries the session's token (form field or X-CSRFToken header).

A pure ASGI middleware.  It reads the body of form posts (urlencoded or multipart) to find
``csrf_token`` and replays the body to the app unchanged.  A missing or wrong token is a 403
page, never a 500.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import settings

SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}
FIELD = "csrf_token"
HEADER = b"x-csrftoken"


def max_body() -> int:
    """The largest form body read for its token: the upload limit plus room for fields."""
    return (settings.upload_max_mb + 5) * 1024 * 1024


FORM_TYPES = {b"application/x-www-form-urlencoded", b"multipart/form-data"}


async def token_from_body(scope: Scope, body: bytes) -> str | None:
    """Parse the buffered body with Starlette's own form parser and pick ``csrf_token``."""
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({**scope, "state": {}}, once)
    try:
        form = await request.form()
    except Exception:
        return None
    try:
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, reject: ASGIApp) -> None:
        self.app = app
        self.reject = reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE:
            await self.app(scope, receive, send)
            return
        session = scope.get("state", {}).get("session")
        expected = session.csrf_token if session else None
        headers = dict(scope["headers"])
        header = headers.get(HEADER, b"").decode("latin-1") or None
        if expected and header and hmac.compare_digest(expected, header):
            await self.app(scope, receive, send)
            return
        # No header, or a stale one (a page rendered before the session changed): the
        # form's own csrf_token field decides.
        chunks: list[bytes] = []
        size = 0
        limit = max_body()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.reject(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        supplied = await token_from_body(scope, body) if kind in FORM_TYPES else None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if not expected or not supplied or not hmac.compare_digest(expected, supplied):
            await self.reject(scope, replay, send)
            return
        await self.app(scope, replay, send)
