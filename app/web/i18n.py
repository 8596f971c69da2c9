"""Babel translations: zh_Hans by default, English per user.

Message ids are English.  The catalogues live in ``app/locale/<locale>/LC_MESSAGES/messages.po``
and are compiled in memory at start-up (no generated .mo files to keep in step).
"""

from __future__ import annotations

import contextvars
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "zh_Hans"
LOCALES = {"zh_Hans": "简体中文", "en": "English"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def normalize(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    if value in LOCALES:
        return value
    low = value.lower()
    if low.startswith("zh"):
        return "zh_Hans"
    if low.startswith("en"):
        return "en"
    return None


def set_locale(locale: str) -> contextvars.Token[str]:
    return _current.set(normalize(locale) or DEFAULT_LOCALE)


def get_locale() -> str:
    return _current.get()


def gettext(message: str, **variables: Any) -> str:
    text = translations(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(get_locale()).ungettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def join_list(items: list[str] | tuple[str, ...]) -> str:
    """A list in running text: 甲、乙、丙 in Chinese, "a, b, c" in English."""
    return ("、" if get_locale() == "zh_Hans" else ", ").join(str(i) for i in items)


def join_sentences(items: list[str]) -> str:
    return ("" if get_locale() == "zh_Hans" else " ").join(items)


_ = gettext
