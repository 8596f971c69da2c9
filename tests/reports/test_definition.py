"""Form definitions and their versions (app.reports.definition, app.reports.versions):
validation with where each problem is, versioning, conflicts, and which version a period
keeps."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import pytest

from app import db
from app.reports import definition as definitions
from app.reports import periods, versions
from app.reports.definition import DefinitionError
from app.reports.queries import forms as form_queries
from app.reports.queries import periods as period_queries
from app.rules import RuleError, compile_rule
from app.tenancy import queries as tenancy
from app.tenancy.scope import system_scope
from app.web.i18n import gettext as _
from tests.reports.helpers import run, scope_of


def sample(**changes: Any) -> dict[str, Any]:
    """A small valid definition: two pre-filled counts, a yes/no, a choice, one rule."""
    data: dict[str, Any] = {
        "filers": ["regiment", "community"],
        "due_day": 5,
        "lock_day": 10,
        "intro": "",
        "sections": [
            {
                "key": "business",
                "title": "一、业务办理",
                "fields": [
                    {"key": "registered", "label": "登记", "source": "registered"},
                    {"key": "concluded", "label": "办结", "source": "concluded"},
                    {"key": "open", "label": "按时开放", "type": "yesno"},
                    {"key": "grade", "label": "等级", "type": "choice", "choices": ["好", "差"]},
                ],
            }
        ],
        "rules": [
            {"key": "le", "expr": "concluded <= registered", "message": "办结不多于登记"},
        ],
    }
    data.update(changes)
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as refused:
        definitions.validate(data)
    return refused.value.problems


def code() -> str:
    return f"t-def-{secrets.token_hex(4)}"


# --- validation ---------------------------------------------------------------------------


def test_a_valid_definition_fills_the_defaults() -> None:
    d = definitions.validate(sample())
    fields = {f.key: f for f in d.fields()}
    assert fields["registered"].rollup == "sum" and fields["grade"].rollup == "none"
    assert fields["open"].numeric and not fields["grade"].numeric
    assert d.numeric_keys() == ["registered", "concluded", "open"]
    assert [r.key for r, _rule in d.compiled_rules()] == ["le"]


def test_a_broken_rule_is_refused_with_its_position() -> None:
    for expr in ("concluded <= registered +", "concluded <= regstered", "grade > 1"):
        data = sample(rules=[{"key": "bad", "expr": expr, "message": "m"}])
        [problem] = problems_of(data)
        with pytest.raises(RuleError) as compiled:
            compile_rule(expr, ["registered", "concluded", "open"])
        exc = compiled.value
        assert problem == _(
            "Rule %(key)s, character %(pos)s: %(reason)s",
            key="bad",
            pos=exc.position,
            reason=exc.reason,
        )
    assert compile_rule("abs(registered - prev(registered)) <= 10", ["registered"])


def test_field_problems_name_their_place() -> None:
    data = sample()
    data["sections"][0]["fields"][3]["choices"] = ["好"]
    [problem] = problems_of(data)
    assert problem.startswith(_("section") + " 1 (business), " + _("field") + " 4 (grade)")
    assert _("A choice field needs at least two choices") in problem
    data = sample()
    data["sections"][0]["fields"][2]["source"] = "registered"  # a yes/no from case records
    assert (
        _("A field filled from case records must be a number of its kind") in problems_of(data)[0]
    )
    data = sample()
    data["sections"][0]["fields"][0]["key"] = "Registered"
    assert "(Registered)" in problems_of(data)[0]


def test_duplicates_and_days_are_refused() -> None:
    data = sample()
    data["sections"][0]["fields"][1]["key"] = "registered"
    assert problems_of(data) == [_("The field key %(key)s is used twice", key="registered")]
    data = sample(rules=[*sample()["rules"], *sample()["rules"]])
    assert problems_of(data) == [_("Each rule needs its own key")]
    assert problems_of(sample(due_day=12, lock_day=10)) == [
        _("The lock day cannot be before the due day")
    ]
    assert problems_of(sample(filers=[]))
    assert problems_of(sample(sections=[]))


# --- versions -----------------------------------------------------------------------------


def test_versions_are_made_only_when_the_definition_changes() -> None:
    async def go() -> None:
        scope = await scope_of("d4-liuhong", "d4")
        d4 = scope.own()
        c = code()
        form_id = await versions.create_form(scope, d4, c, "测试表", sample(), date(2027, 1, 1))
        form = await form_queries.form(scope, form_id)
        assert form is not None and form["current_version"] == 1
        same = await versions.save_version(scope, form, sample(), date(2027, 2, 1), expected=1)
        assert same is None
        assert [v["number"] for v in await form_queries.versions(scope, form_id)] == [1]
        changed = sample(due_day=3)
        number = await versions.save_version(
            scope, form, changed, date(2027, 2, 1), expected=1, change_note="due 3"
        )
        assert number == 2
        newest = await form_queries.version_number(scope, form_id, 2)
        assert newest is not None and newest["definition"]["due_day"] == 3
        with pytest.raises(versions.VersionConflict):  # an editor opened at version 1
            await versions.save_version(
                scope, form, sample(due_day=4), date(2027, 3, 1), expected=1
            )
        assert [v["number"] for v in await form_queries.versions(scope, form_id)] == [2, 1]
        with pytest.raises(DefinitionError):  # broken: nothing saved
            await versions.save_version(
                scope, form, sample(lock_day=1), date(2027, 3, 1), expected=2
            )
        with pytest.raises(DefinitionError) as duplicate:
            await versions.create_form(scope, d4, c, "again", sample(), date(2027, 1, 1))
        assert c in duplicate.value.problems[0]
        with pytest.raises(DefinitionError):
            await versions.create_form(scope, d4, "Bad Code", "x", sample(), date(2027, 1, 1))

    run(go())


def test_a_period_keeps_the_version_in_force_on_its_opening_day() -> None:
    async def go() -> None:
        scope = await scope_of("d4-liuhong", "d4")
        system = system_scope(await tenancy.tree(), reason="tests: periods")
        form_id = await versions.create_form(
            scope, scope.own(), code(), "测试表", sample(), date(2027, 1, 1)
        )
        form = await form_queries.form(system, form_id)
        assert form is not None

        async def opened(month: int) -> dict[str, Any]:
            async with db.write(system):
                await periods.open_period(system, form, month)
            found = await period_queries.period_for(system, form_id, month)
            assert found is not None
            return found

        async with db.write(system):  # before the first version: no period opens
            assert not await periods.open_period(system, form, 202611)
        v1 = await form_queries.version_number(system, form_id, 1)
        assert v1 is not None
        january = await opened(202701)  # opens 2027-02-01 under version 1
        assert january["version_id"] == v1["id"]
        # Version 2 takes effect on that very opening day, after the period opened.
        await versions.save_version(scope, form, sample(due_day=2), date(2027, 2, 1), expected=1)
        v2 = await form_queries.version_number(system, form_id, 2)
        assert v2 is not None
        in_force = await form_queries.version_in_force(system, form_id, date(2027, 2, 1))
        assert in_force is not None and in_force["id"] == v2["id"]
        assert (await opened(202701))["version_id"] == v1["id"]  # kept
        assert january["due_on"] == date(2027, 2, 5)
        december = await opened(202612)  # opens 2027-01-01: still version 1
        assert december["version_id"] == v1["id"]
        february = await opened(202702)  # opens 2027-03-01: version 2, due on the 2nd
        assert february["version_id"] == v2["id"] and february["due_on"] == date(2027, 3, 2)
        async with db.write(system):  # opening again changes nothing
            assert not await periods.open_period(system, form, 202701)

    run(go())


# --- the diff between two versions -------------------------------------------------------------


def test_the_diff_names_each_change() -> None:
    from app.reports.definition_diff import diff

    old = definitions.validate(sample()).model_dump(mode="json")
    data = sample(due_day=3)
    fields = data["sections"][0]["fields"]
    fields[1]["label"] = "办结件数"
    fields.pop(2)  # "open" removed
    fields.insert(0, {"key": "staff", "label": "人数", "required": False})
    data["sections"].append(
        {"key": "extra", "title": "二、其他", "fields": [fields.pop()]}  # "grade" moves
    )
    data["rules"][0]["level"] = "warn"
    new = definitions.validate(data).model_dump(mode="json")
    assert diff(None, new) == [] and diff(new, new) == []
    changes = {(c.part, c.action, c.key): c for c in diff(old, new)}
    assert set(changes) == {
        ("form", "changed", ""),
        ("section", "added", "extra"),
        ("field", "added", "staff"),
        ("field", "changed", "concluded"),
        ("field", "changed", "grade"),
        ("field", "removed", "open"),
        ("rule", "changed", "le"),
    }
    assert [(a.name, a.old, a.new) for a in changes[("form", "changed", "")].attrs] == [
        ("due_day", "5", "3")
    ]
    [label] = changes[("field", "changed", "concluded")].attrs
    assert (label.name, label.old, label.new) == ("label", "办结", "办结件数")
    [section] = changes[("field", "changed", "grade")].attrs
    assert (section.name, section.old, section.new) == ("section", "一、业务办理", "二、其他")
    [level] = changes[("rule", "changed", "le")].attrs
    assert level.name == "level" and level.new == str(definitions.LEVELS["warn"])
    assert _("optional") in changes[("field", "added", "staff")].summary
