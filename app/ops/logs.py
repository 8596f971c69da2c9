"""Logging for every process: JSON lines (default) or one readable line, and the request context.

:func:`configure` (or :func:`dict_config`, which ``serve`` hands to uvicorn so its worker
processes are configured the same way) sends every record to stderr through one handler.
That handler's :class:`ContextFilter` adds the current request's ``request_id``, ``tenant``
(slug) and ``user_id`` to each record, so a line logged anywhere during a request — an
exception included — can be joined to its access line.

What never goes into a log: ID numbers, phone numbers, applicants' names, passwords, tokens,
query strings and form values (``tests/logscan.py`` scans the suite's log output).
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from app.settings import settings

# A slug matched by a route but not (yet) resolved to a tenant — a login redirect, an unknown
# centre — is logged only when it has a slug's shape (tenancy.manifests.SLUG), never other text.
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


def slug_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and SLUG.match(value) else None


# Libraries that log request details (headers, URLs, form parts) at INFO/DEBUG.
QUIET = (
    "asyncio",
    "aiosqlite",
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "pika",
    "multipart",
    "python_multipart",
    "httpx",
    "httpx2",
    "httpcore",
    "psycopg",
    "psycopg.pool",
)


@dataclass
class RequestContext:
    """What every log line of one request carries; reads the request's state lazily, so the
    session and tenant resolved by later middleware show up as soon as they are known."""

    request_id: str
    scope: MutableMapping[str, Any]
    user_id: int | None = None

    def user(self) -> int | None:
        session = self.scope.get("state", {}).get("session")
        user = getattr(session, "user", None)
        if user is not None:
            self.user_id = int(user.id)
        return self.user_id

    def tenant(self) -> str | None:
        node = self.scope.get("state", {}).get("tenant")
        slug = getattr(node, "slug", None)
        if slug:
            return str(slug)
        return slug_or_none(self.scope.get("path_params", {}).get("slug"))

    def fields(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "tenant": self.tenant(), "user_id": self.user()}


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "bianmin_request", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def enter(context: RequestContext) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def leave(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


class ContextFilter(logging.Filter):
    """Adds the request's fields to every record (never overriding what the caller passed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is not None:
            for name, value in context.fields().items():
                if getattr(record, name, None) is None:
                    setattr(record, name, value)
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: level, logger, pid, message, the extras, time (UTC, ISO 8601)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(process)d %(message)s")
        kwargs.setdefault(
            "rename_fields", {"levelname": "level", "name": "logger", "process": "pid"}
        )
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message", "taskName"])
        super().__init__(*args, **kwargs)


class TextFormatter(logging.Formatter):
    """``2025-05-01 10:00:00,123 INFO  bianmin.access [3f2a… r63 u12] GET /t/{slug}/ 200 …``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        request_id = getattr(record, "request_id", None)
        if request_id:
            parts.append(str(request_id))
        tenant = getattr(record, "tenant", None)
        if tenant:
            parts.append(str(tenant))
        user_id = getattr(record, "user_id", None)
        if user_id is not None:
            parts.append(f"u{user_id}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def dict_config(log_format: str | None = None, level: str | None = None) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for this process (uvicorn takes it as ``log_config``)."""
    log_format = log_format or settings.log_format
    level = level or settings.log_level
    formatter = (
        "app.ops.logs.TextFormatter" if log_format == "text" else "app.ops.logs.JsonFormatter"
    )
    quiet_level = "WARNING" if level in ("DEBUG", "INFO") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "app.ops.logs.ContextFilter"}},
        "formatters": {"main": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own records go through the root handler; its access log stays off
            # (it would print query strings: bianmin.access logs route templates instead).
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            **{name: {"level": quiet_level} for name in QUIET},
        },
    }


def configure(log_format: str | None = None, level: str | None = None) -> None:
    """Set up logging for this process (the CLI calls it once, before any command)."""
    logging.config.dictConfig(dict_config(log_format, level))
    logging.captureWarnings(True)
