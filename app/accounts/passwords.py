"""argon2id password hashing and the password rule."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import settings
from app.web.i18n import gettext as _

MIN_LENGTH = 8


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


@cache
def _dummy_hash() -> str:
    return hasher().hash("not-a-real-password-0")


def verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists or has a password."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def problems(password: str, username: str = "") -> list[str]:
    out = []
    if len(password) < MIN_LENGTH:
        out.append(_("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > 128:
        out.append(_("Use at most 128 characters."))
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        out.append(_("Use both letters and digits."))
    if username and password.lower() == username.lower():
        out.append(_("The password must not be the username."))
    return out
