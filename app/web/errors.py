"""HTTP errors raised by services and views, rendered as Chinese pages (or fragments)."""

from __future__ import annotations

from starlette.exceptions import HTTPException


class NotFound(HTTPException):
    """Missing, or belongs to another tenant: the two are indistinguishable on purpose."""

    def __init__(self) -> None:
        super().__init__(status_code=404)


class Forbidden(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403)


class LoginRequired(Exception):
    """Raised when a page needs a signed-in user; answered with a redirect to /login."""
