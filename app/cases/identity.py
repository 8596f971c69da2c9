"""Applicants' identifiers: check digits, the keyed hash used to find them, and masking.

- Resident identity number (公民身份号码, GB 11643-1999): 17 digits and a check character
  (ISO 7064 MOD 11-2; ``X`` for 10, lower-case ``x`` accepted), with a valid birth date.
- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from
  ``0-9A-Z`` without I, O, Z, S, V; the last is a MOD 31 check character.

IDs are stored for the authorised unmasked view, but found only through
:func:`id_hash` (HMAC-SHA-256 under a key that is not in the database), never by a
plain-text search.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path

from app.settings import settings

_RESIDENT = re.compile(r"^\d{17}[\dX]$")
_RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_RESIDENT_CHECK = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_CREDIT = re.compile(rf"^[{CREDIT_ALPHABET}]{{18}}$")


def normalise(value: str) -> str:
    """Strip spaces (including full-width ones) and upper-case (``x`` → ``X``)."""
    return re.sub(r"[\s\u3000]+", "", value or "").upper()


def resident_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def is_resident_id(value: str) -> bool:
    """An 18-character resident ID with a valid birth date and check character."""
    value = normalise(value)
    if not _RESIDENT.match(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    return resident_check_char(value[:17]) == value[17]


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    """An 18-character unified social credit code with a valid check character."""
    value = normalise(value)
    if not _CREDIT.match(value):
        return False
    return credit_check_char(value[:17]) == value[17]


def id_kind_of(value: str) -> str | None:
    """``resident_id``, ``credit_code`` or None (an 18-digit ID is tried as a resident ID)."""
    if is_resident_id(value):
        return "resident_id"
    if is_credit_code(value):
        return "credit_code"
    return None


def _key_path() -> Path:
    return Path(settings.var_dir) / "id-hash.key"


def existing_key() -> bytes | None:
    """The key in force (``ID_HASH_KEY``, else ``$VAR_DIR/id-hash.key``), or ``None`` when
    there is none yet (backups compare its fingerprint; nothing is created here)."""
    env = os.environ.get("ID_HASH_KEY")
    if env:
        return env.encode()
    try:
        return _key_path().read_text().strip().encode() or None
    except FileNotFoundError:
        return None


@lru_cache(maxsize=1)
def _key() -> bytes:
    """``ID_HASH_KEY`` from the environment, else a key kept in ``$VAR_DIR/id-hash.key``
    (created on first use).  Several web processes must share one key: production sets
    ``ID_HASH_KEY``.
    """
    key = existing_key()
    if key is not None:
        return key
    path = _key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def id_hash(value: str) -> str:
    """The keyed hash of a normalised ID number (what searches compare)."""
    return hmac.new(_key(), normalise(value).encode(), hashlib.sha256).hexdigest()


def mask_id(value: str) -> str:
    """``650102********123X``: region code and the last four characters."""
    value = normalise(value)
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``139****5678``."""
    digits = (value or "").strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    """``张*`` / ``欧***``: the first character only (organisations are not masked by callers)."""
    value = (value or "").strip()
    if len(value) <= 1:
        return value
    return value[0] + "*" * (len(value) - 1)


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def is_phone(value: str) -> bool:
    """A mainland mobile number or a landline with its area code (0906-2345678)."""
    return bool(_PHONE.match(re.sub(r"[\s\u3000]", "", value or "")))
