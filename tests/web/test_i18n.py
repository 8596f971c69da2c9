"""The zh_Hans catalogue is complete, and the locale switch really switches.

Messages are extracted from the source tree exactly as ``infra/dev/update-messages.sh``
does (``babel.cfg`` plus the ``_l`` / ``lazy_gettext`` keywords), so a string wrapped in
``_()`` anywhere under ``app/`` fails here until ``app/locale/zh_Hans/.../messages.po``
translates it.  To fix a failure: run ``infra/dev/update-messages.sh`` and fill in the empty
``msgstr`` entries (simplified characters, placeholders kept).
"""

from __future__ import annotations

import contextvars
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.web import i18n

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "app" / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
# The same keywords as ``pybabel extract -k _l -k lazy_gettext`` in update-messages.sh.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

MsgId = str | tuple[str, ...]
T = TypeVar("T")

# ``%(name)s``, ``%(n)d``, ``%(x).1f`` … (``%%`` is a literal percent sign, not a placeholder).
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*(?:\d+)?(?:\.\d+)?[a-zA-Z]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Genuine simplified characters outside GB2312 that a translation may use (none so far).
SIMPLIFIED_OUTSIDE_GB2312: frozenset[str] = frozenset()


def extract(root: Path) -> dict[MsgId, list[str]]:
    """Every message id under ``root`` per ``root/babel.cfg``, with its ``file:line`` places."""
    with (root / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(root / "babel.cfg"))
    found: dict[MsgId, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) and len(message) == 1 else message
        if msgid:
            found[msgid].append(f"{filename}:{lineno}")
    return dict(found)


def load(po: Path) -> Catalog:
    with po.open("rb") as fh:
        return read_po(fh, locale="zh_Hans", abort_invalid=True)


@cache
def source_messages() -> dict[MsgId, list[str]]:
    return extract(ROOT)


@cache
def zh_catalogue() -> Catalog:
    return load(ZH_PO)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def _show(msgid: MsgId | list[str]) -> str:
    return repr(msgid if isinstance(msgid, str) else tuple(msgid))


def untranslated(messages: dict[MsgId, list[str]], catalogue: Catalog) -> list[str]:
    """Ids that are missing from the catalogue, or whose translation is empty or fuzzy."""
    problems = []
    for msgid, places in sorted(messages.items(), key=lambda kv: kv[1][0]):
        entry = catalogue.get(msgid)
        where = ", ".join(places)
        if entry is None:
            problems.append(f"missing:  {_show(msgid)}  ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy:    {_show(msgid)}  ({where})")
        elif not all(s.strip() for s in _strings(entry.string)):
            problems.append(f"empty:    {_show(msgid)}  ({where})")
    return problems


class _AnyValue(dict[str, Any]):
    def __missing__(self, key: str) -> int:
        return 1


def placeholder_errors(catalogue: Catalog) -> list[str]:
    """Translations whose ``%(...)`` placeholders differ from their id's, or that break ``%``."""
    problems = []
    for entry in catalogue:
        if not entry.id or not entry.string:
            continue
        ids = _strings(entry.id)
        wanted = {m.group(0) for text in ids for m in PLACEHOLDER.finditer(text)}
        for text in _strings(entry.string):
            if not text:
                continue
            got = {m.group(0) for m in PLACEHOLDER.finditer(text)}
            if got != wanted:
                problems.append(
                    f"{_show(entry.id)} → {text!r}: placeholders {sorted(got)} "
                    f"instead of {sorted(wanted)}"
                )
                continue
            # Templates always apply ``%`` (newstyle gettext); a stray ``%`` would crash them.
            if _formats(ids[-1]) and not _formats(text):
                problems.append(f"{_show(entry.id)} → {text!r}: a stray % (write %% for one)")
    return problems


def _formats(text: str) -> bool:
    try:
        text % _AnyValue()
    except (ValueError, TypeError, KeyError):
        return False
    return True


def traditional_characters(catalogue: Catalog) -> list[str]:
    """Translations with Han characters outside GB2312: almost always traditional forms."""
    problems = []
    for entry in catalogue:
        for text in _strings(entry.string) if entry.id else []:
            odd = sorted(
                {
                    ch
                    for ch in CJK.findall(text)
                    if ch not in SIMPLIFIED_OUTSIDE_GB2312 and not _in_gb2312(ch)
                }
            )
            if odd:
                problems.append(f"{_show(entry.id)} → {text!r}: {''.join(odd)}")
    return problems


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def in_locale(locale: str | None, fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh context; ``None`` leaves the locale at its default."""

    def run() -> T:
        if locale is not None:
            i18n.set_locale(locale)
        return fn()

    return contextvars.Context().run(run)


def _report(title: str, problems: Iterable[str]) -> str:
    lines = list(problems)
    return f"{title} ({len(lines)}):\n  " + "\n  ".join(lines)


# --- the catalogue -----------------------------------------------------------------------


def test_extraction_sees_python_and_templates() -> None:
    """Guards the guard: a broken babel.cfg would extract nothing and pass everything."""
    messages = source_messages()
    places = [p for ps in messages.values() for p in ps]
    assert any(p.startswith("app/templates/") for p in places), "no template messages"
    assert any(".py:" in p for p in places), "no Python messages"
    assert "Window clerk" in messages  # lazy_gettext as _l, in app/accounts/roles.py
    assert "Log in" in messages  # {{ _("Log in") }} in templates


def test_zh_hans_catalogue_is_complete() -> None:
    problems = untranslated(source_messages(), zh_catalogue())
    assert not problems, _report(
        "untranslated zh_Hans messages — run infra/dev/update-messages.sh and translate",
        problems,
    )


def test_translations_keep_placeholders() -> None:
    problems = placeholder_errors(zh_catalogue())
    assert not problems, _report("placeholders changed in zh_Hans", problems)


def test_translations_use_simplified_characters() -> None:
    problems = traditional_characters(zh_catalogue())
    assert not problems, _report(
        "characters outside GB2312 in zh_Hans (traditional forms? if a character is a "
        "genuine simplified one, add it to SIMPLIFIED_OUTSIDE_GB2312)",
        problems,
    )


def test_catalogue_has_no_format_errors() -> None:
    errors = [
        f"{_show(entry.id)}: {'; '.join(map(str, errs))}"
        for entry, errs in zh_catalogue().check()
        if entry.id
    ]
    assert not errors, _report("babel's catalogue checks", errors)


def test_checks_catch_what_they_should(tmp_path: Path) -> None:
    """New wrapped strings, in Python and in a template, are reported until translated."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "app" / "templates").mkdir(parents=True)
    (tmp_path / "app" / "scratch.py").write_text(
        "from app.web.i18n import gettext as _, lazy_gettext as _l\n"
        'A = _l("Scratch lazy label")\n'
        'B = _("Log in")\n'
        'C = _("Scratch %(n)d items", n=2)\n',
        encoding="utf-8",
    )
    (tmp_path / "app" / "templates" / "scratch.html").write_text(
        '{{ _("Scratch template text") }} {{ _("Scratch hello %(name)s", name=x) }}\n',
        encoding="utf-8",
    )
    messages = extract(tmp_path)
    assert set(messages) == {
        "Scratch lazy label",
        "Log in",
        "Scratch %(n)d items",
        "Scratch template text",
        "Scratch hello %(name)s",
    }
    reported = "\n".join(untranslated(messages, zh_catalogue()))
    for msgid in messages:
        assert (repr(msgid) in reported) == (msgid != "Log in"), reported

    bad = Catalog(locale="zh_Hans")
    bad.add("Hello %(name)s", "你好 %(nmae)s")
    bad.add("Fuzzy one", "模糊", flags=["fuzzy"])
    bad.add("Empty one", "")
    bad.add("Percent", "百分之百%")
    bad.add("Old form", "團场")
    messages = {"Hello %(name)s": ["x"], "Fuzzy one": ["x"], "Empty one": ["x"], "Gone": ["x"]}
    assert sorted(p.split()[0] for p in untranslated(messages, bad)) == [
        "empty:",
        "fuzzy:",
        "missing:",
    ]
    assert [p.split(" → ")[0] for p in placeholder_errors(bad)] == [
        repr("Hello %(name)s"),
        repr("Percent"),
    ]
    assert traditional_characters(bad) == [f"{'Old form'!r} → '團场': 團"]


# --- the switch --------------------------------------------------------------------------


def test_gettext_follows_the_locale() -> None:
    assert in_locale(None, lambda: i18n.gettext("Log in")) == "登录"  # zh_Hans by default
    assert in_locale("zh_Hans", lambda: i18n.gettext("Log in")) == "登录"
    assert in_locale("en", lambda: i18n.gettext("Log in")) == "Log in"
    assert in_locale("zh-CN", lambda: i18n.gettext("Window clerk")) == "窗口人员"

    def check_length() -> str:
        return i18n.gettext("Use at least %(n)d characters.", n=8)

    assert "8" in in_locale("zh_Hans", check_length)
    assert in_locale("en", check_length) == "Use at least 8 characters."


def test_lazy_gettext_resolves_when_used() -> None:
    from app.accounts.roles import ROLE_LABELS

    assert in_locale("zh_Hans", lambda: str(ROLE_LABELS["clerk"])) == "窗口人员"
    assert in_locale("en", lambda: str(ROLE_LABELS["clerk"])) == "Window clerk"


def test_templates_translate() -> None:
    from app.web.templating import templates

    page = templates.env.from_string(
        '{{ _("Log in") }}|{{ _("Log out (%(name)s)", name="王丽") }}|{{ items | join_list }}'
    )
    items = ["甲", "乙"]
    assert in_locale("zh_Hans", lambda: page.render(items=items)) == "登录|退出登录（王丽）|甲、乙"
    assert in_locale("en", lambda: page.render(items=items)) == "Log in|Log out (王丽)|甲, 乙"
