"""Jinja2 with named blocks: an HTMX request gets the block, any other the full page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

from app.web import i18n

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Stored in UTC, shown in Asia/Shanghai."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(SHANGHAI).strftime(fmt)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["local_time"] = local_time
    env.filters["join_list"] = i18n.join_list
    from app.catalogue.content import halves_text

    env.filters["halves"] = halves_text
    env.globals["LOCALES"] = i18n.LOCALES
    from app.accounts.audit import ACTION_LABELS, OBJECT_LABELS
    from app.accounts.roles import ROLE_LABELS

    env.globals["role_labels"] = ROLE_LABELS
    env.globals["action_labels"] = ACTION_LABELS
    env.globals["object_labels"] = OBJECT_LABELS
    env.globals["status_labels"] = {
        "pending": i18n.lazy_gettext("Waiting"),
        "sending": i18n.lazy_gettext("Sending"),
        "held": i18n.lazy_gettext("Held until service hours"),
        "sent": i18n.lazy_gettext("Sent"),
        "failed": i18n.lazy_gettext("Failed"),
    }
    return env


templates = Jinja2Blocks(env=_env())


def is_htmx(request: Request) -> bool:
    """A partial request: htmx asked, and it is not a boosted full navigation."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def context(request: Request) -> dict[str, Any]:
    state = request.state
    session = getattr(state, "session", None)
    return {
        "request": request,
        "session": session,
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "scope": getattr(state, "tenant_scope", None),
        "tenant": getattr(state, "tenant", None),
        "locale": i18n.get_locale(),
        "is_htmx": is_htmx(request),
    }


async def render(
    request: Request,
    name: str,
    ctx: dict[str, Any] | None = None,
    *,
    block: str | None = "content",
    status_code: int = 200,
    needs_session: bool = True,
) -> Response:
    """Render ``name``; an htmx request gets only ``block``.  Always ``Vary: HX-Request``."""
    if needs_session:
        from app.accounts import sessions

        await sessions.ensure(request)
    data = context(request)
    if data["user"] is not None and not is_htmx(request):
        from app.notify import queries as notify
        from app.tenancy.scope import user_scope

        data["unread"] = await notify.unread_count(user_scope(data["user"].id))
    data.update(ctx or {})
    if block and is_htmx(request):
        response = templates.TemplateResponse(
            request, name, data, status_code=status_code, block_name=block
        )
    else:
        response = templates.TemplateResponse(request, name, data, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie"
    return response
