"""Checking the report-form editor row by row, before the whole definition is validated:
a problem appears next to the input it concerns (a rule that does not compile shows the
character where it goes wrong), and the summary at the top links to each one.

The whole-definition check (:func:`app.reports.definition.validate`) still runs when the
version is saved; these checks only say earlier, and where.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import ValidationError

from app.reports import definition as definitions
from app.reports.definition import NUMERIC
from app.reports.definition_forms import DefinitionForm, Row, Where
from app.rules import RuleError, compile_rule
from app.web.i18n import gettext as _

# --- checking row by row ------------------------------------------------------------------


def _pydantic(row: Row, model: Any, data: dict[str, Any], skip: set[str]) -> bool:
    """Check ``data`` with a definition model; put its problems next to the row's inputs."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        ok = True
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ())]
            if loc and loc[0] in skip:
                continue
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            name = loc[0] if loc and loc[0] in row._fields else _model_target(row, message)
            if not row[name].errors:
                row.problem(name, message)
            ok = False
        return ok
    return True


def _model_target(row: Row, message: str) -> str:
    """The input a whole-field problem of app.reports.definition concerns."""
    targets = {
        _("A choice field needs at least two choices"): "choices",
        _("Only a choice field has choices"): "choices",
        _("A field filled from case records must be a number of its kind"): "source",
        _("Only number fields can be totalled"): "rollup",
    }
    unknown = _("Unknown source %(name)s", name="").strip()
    name = targets.get(message, "source" if message.startswith(unknown) else "")
    return name if name in row._fields else next(iter(row._fields))


def _required(row: Row, names: Iterable[str]) -> bool:
    ok = True
    for name in names:
        if not (row[name].data or "").strip():
            row.problem(name, _("Enter this or remove the row."))
            ok = False
    return ok


def _once(rows: list[tuple[Row, str]], message: str) -> bool:
    seen: set[str] = set()
    ok = True
    for row, key in rows:
        if key and key in seen:
            row.problem("key", message)
            ok = False
        seen.add(key)
    return ok


def check(form: DefinitionForm, data: dict[str, Any], where: Where, earliest: date) -> bool:
    """Check each row where it stands (after ``form.validate()``); False when any failed."""
    ok = True
    if form.effective_from.data and form.effective_from.data < earliest:
        form.add_error(
            "effective_from",
            _("A new version can take effect on %(day)s at the earliest.", day=earliest),
        )
        ok = False
    if (form.due_day.data and form.lock_day.data) and form.lock_day.data < form.due_day.data:
        form.add_error("lock_day", _("The lock day cannot be before the due day."))
        ok = False
    if not where.sections:
        form.form_errors.append(_("Add at least one section with a field."))
        ok = False
    fields: list[tuple[Row, str]] = []
    numeric: list[str] = []
    for (sec, rows), sdata in zip(where.sections, data["sections"], strict=True):
        ok &= _required(sec, ("key", "title"))
        ok &= _pydantic(sec, definitions.SectionDef, sdata, {"fields"})
        if not rows:
            sec.form_errors.append(_("A section needs at least one field."))
            ok = False
        for row, fdata in zip(rows, sdata["fields"], strict=True):
            ok &= _required(row, ("key", "label"))
            if len(fdata["choices"]) > 30:
                row.problem("choices", _("At most 30 choices."))
                ok = False
            ok &= _pydantic(row, definitions.FieldDef, fdata, set())
            fields.append((row, fdata["key"]))
            if fdata["type"] in NUMERIC:
                numeric.append(fdata["key"])
    keys = [(s, d["key"]) for (s, _r), d in zip(where.sections, data["sections"], strict=True)]
    ok &= _once(keys, _("Each section needs its own key."))
    ok &= _once(fields, _("Another field already uses this key."))
    if len(fields) > definitions.MAX_FIELDS:
        form.form_errors.append(
            _("A form may have at most %(n)s fields.", n=definitions.MAX_FIELDS)
        )
        ok = False
    for rule, rdata in zip(where.rules, data["rules"], strict=True):
        ok &= _required(rule, ("key", "expr", "message"))
        ok &= _pydantic(rule, definitions.RuleDef, rdata, set())
        if rdata["expr"] and not rule.expr.errors:
            try:
                compile_rule(rdata["expr"], numeric)
            except RuleError as exc:
                rule.position = exc.position
                rule.problem(
                    "expr", _("Character %(pos)s: %(reason)s", pos=exc.position, reason=exc.reason)
                )
                ok = False
    rules = [(rule, d["key"]) for rule, d in zip(where.rules, data["rules"], strict=True)]
    ok &= _once(rules, _("Another rule already uses this key."))
    return ok


# --- the summary of problems ---------------------------------------------------------------


def error_list(form: DefinitionForm) -> list[tuple[str, str]]:
    """(input id, "where · label: message") of every problem, rows included."""
    out: list[tuple[str, str]] = [("definition", e) for e in form.form_errors]
    for f in form:
        if f.name == "sections":
            for n, entry in enumerate(f, start=1):
                sec = entry.form
                where = _("Section %(n)s", n=n)
                out += [(entry.id, f"{where}: {e}") for e in sec.form_errors]
                out += _row_errors(sec, where, skip={"fields"})
                for m, row in enumerate(sec.fields, start=1):
                    out += _row_errors(row.form, f"{where} · " + _("Field %(n)s", n=m))
        elif f.name == "rules":
            for n, entry in enumerate(f, start=1):
                out += _row_errors(entry.form, _("Rule %(n)s", n=n))
        elif isinstance(f.errors, list | tuple):
            out += [(f.id, f"{f.label.text}: {e}") for e in f.errors]
    return out


def _row_errors(row: Row, where: str, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    return [
        (sub.id, f"{where} · {sub.label.text}: {e}")
        for sub in row
        if sub.short_name not in skip
        for e in sub.errors
        if isinstance(e, str)
    ]


def numeric_fields(form: DefinitionForm) -> list[tuple[str, str]]:
    """(key, label) of the number fields now in the form: what a rule may name."""
    return [
        (row.form.key.data, row.form.label.data or "")
        for sec in form.sections
        if not sec.form.remove.data
        for row in sec.form.fields
        if not row.form.dropped() and row.form.key.data and row.form.type.data in NUMERIC
    ]
