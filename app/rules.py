"""Rules as data: report validation rules and assessment formulas.

`compile_rule` checks an expression when it is saved and raises `RuleError` (1-based
character `position`, translated `reason`); `Rule.evaluate` runs it with simpleeval on a
syntax tree that holds only what the checker let through. Allowed: field names; int and
decimal literals; ``+ - * / // % **`` (exponent at most MAX_EXPONENT); unary ``-``/``+``;
comparisons, chained too; ``and or not``; ``x if c else y``; ``min(a, b, …)``,
``max(a, b, …)``, ``abs(x)``, ``round(x[, places])`` (half up); ``prev(field)`` = that
field in the previous period. Nothing else: no text, attributes, indexing, other calls.

Arithmetic is Decimal (floats converted through their repr, so ``0.1 + 0.2 == 0.3``);
results are Decimal or bool; a decimal context that raises on overflow bounds sizes.
Constant parts are computed at save time, so ``9**9**9`` is refused then.

A value that is None or absent, ``prev()`` without a previous period, division by zero
or overflow raise `RuleEvaluationError`: the rule cannot be checked with these values,
which callers show as a warning rather than as a failed check.
"""

from __future__ import annotations

import ast
import decimal
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simpleeval import SimpleEval

from app.web.i18n import gettext as _
from app.web.i18n import lazy_gettext as _l

MAX_LENGTH = 500
MAX_DEPTH = 30
MAX_EXPONENT = 100
MAX_PLACES = 10

Value = int | float | Decimal | None
CONTEXT = decimal.Context(
    prec=28,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.Overflow, decimal.DivisionByZero, decimal.InvalidOperation],
)
_FLATTEN = str.maketrans("\t\n\v\f\r", "     ")  # one space each: positions hold


class _Problem(ValueError):
    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.position = reason, position  # translated; 1-based character


class RuleError(_Problem):
    """The rule cannot be saved: what is wrong (`reason`) and where (`position`)."""

    position: int


class RuleEvaluationError(_Problem):
    """The rule cannot be checked with these values; `position` is the part that failed."""


def _d(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(x)  # bools from comparisons


def _arith(op: Callable[[Any, Any], Any], divides: bool = False) -> Callable[..., Decimal]:
    def apply(a: Any, b: Any) -> Decimal:
        if divides and _d(b) == 0:
            raise RuleEvaluationError(_("Division by zero"))
        return op(_d(a), _d(b))  # type: ignore[no-any-return]

    return apply


def _power(a: Any, b: Any) -> Decimal:
    if abs(_d(b)) > MAX_EXPONENT:
        raise RuleEvaluationError(_("The exponent may be at most %(max)s", max=MAX_EXPONENT))
    if _d(a) == 0 and _d(b) < 0:  # Decimal says Infinity
        raise RuleEvaluationError(_("Division by zero"))
    return _d(a) ** _d(b)


def _round(x: Any, places: Any = 0) -> Decimal:
    p = _d(places)
    if p != p.to_integral_value() or not 0 <= p <= MAX_PLACES:
        raise RuleEvaluationError(_("round() keeps 0 to %(max)s decimal places", max=MAX_PLACES))
    return _d(x).quantize(Decimal(1).scaleb(-int(p)), rounding=decimal.ROUND_HALF_UP)


# fmt: off
_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arith(operator.add), ast.Sub: _arith(operator.sub), ast.Mult: _arith(operator.mul),
    ast.Div: _arith(operator.truediv, True), ast.FloorDiv: _arith(operator.floordiv, True),
    ast.Mod: _arith(operator.mod, True), ast.Pow: _power,
    ast.USub: lambda a: -_d(a), ast.UAdd: lambda a: +_d(a), ast.Not: operator.not_,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
# fmt: on
_FUNCTIONS = {"min": min, "max": max, "abs": lambda x: abs(_d(x)), "round": _round}
_ARITY = {"min": (2, 20), "max": (2, 20), "abs": (1, 1), "round": (1, 2), "prev": (1, 1)}
_NODES = (ast.Name, ast.Constant, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp)


_REFUSALS: list[tuple[type | tuple[type, ...], Any]] = [
    (ast.Lambda, _l("Functions cannot be defined in a rule")),
    ((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp), _l("Loops are not allowed")),
    ((ast.List, ast.Tuple, ast.Set, ast.Dict), _l("Lists and other collections are not allowed")),
    (ast.NamedExpr, _l("Assignment (:=) is not allowed")),
    (ast.JoinedStr, _l("Text is not allowed in a rule")),
    (ast.Attribute, _l("Attribute access (.) is not allowed")),
    (ast.Subscript, _l("Indexing ([…]) is not allowed")),
    (ast.AST, _l("This is not allowed in a rule")),
]


@dataclass(frozen=True)
class _Text:
    """Maps AST columns (UTF-8 bytes of the parsed text) to 1-based character positions."""

    body: bytes
    lead: int

    def at(self, col: int) -> int:
        return self.lead + len(self.body[:col].decode("utf-8", "ignore")) + 1

    def of(self, node: ast.AST) -> int:
        return self.at(getattr(node, "col_offset", 0))

    def after(self, node: ast.AST) -> int:
        """The first character after `node`, past spaces and closing brackets."""
        i = getattr(node, "end_col_offset", None) or 0
        while self.body[i : i + 1] in (b" ", b")"):
            i += 1
        return self.at(i)


class _Evaluator(SimpleEval):  # type: ignore[misc]
    def __init__(self, text: _Text, values: Mapping[str, Value], previous: Any) -> None:
        super().__init__(operators=_OPERATORS, functions=_FUNCTIONS, names={})
        # Only these run (anything else raises FeatureNotAvailable), on top of the checker.
        self.nodes = {t: getattr(self, f"_eval_{t.__name__.lower()}") for t in (*_NODES, ast.Call)}
        self.text, self.values, self.previous = text, values, previous

    def _eval(self, node: ast.AST) -> Any:
        try:
            return super()._eval(node)
        except RuleEvaluationError as exc:
            exc.position = exc.position or self.text.of(node)
            raise
        except ArithmeticError as exc:
            if isinstance(exc, ZeroDivisionError):
                reason = _("Division by zero")
            else:
                reason = _("The result is too large or undefined")
            raise RuleEvaluationError(reason, self.text.of(node)) from exc

    def _eval_constant(self, node: ast.Constant) -> Decimal:
        return Decimal(repr(node.value))

    def _eval_name(self, node: ast.Name) -> Decimal:
        missing = _("No value for %(field)s", field=node.id)
        return _number(self.values.get(node.id), node.id, missing)

    def _eval_call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]  # the checker allows names only
        if name != "prev":
            return self.functions[name](*(self._eval(a) for a in node.args))
        if self.previous is None:
            raise RuleEvaluationError(_("There is no previous period to compare with"))
        name = node.args[0].id  # type: ignore[attr-defined]
        missing = _("No value for %(field)s in the previous period", field=name)
        return _number(self.previous.get(name), name, missing)


def _number(value: Any, name: str, missing: str) -> Decimal:
    if value is None:
        raise RuleEvaluationError(missing)
    if isinstance(value, int | float):
        value = Decimal(repr(value) if isinstance(value, float) else int(value))
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RuleEvaluationError(_("%(field)s is not a number", field=name))
    return value


@dataclass(frozen=True)
class Rule:
    """A checked rule; `fields` are read for this period, `prev_fields` through prev()."""

    source: str
    fields: frozenset[str]
    prev_fields: frozenset[str]
    _tree: ast.expr = field(repr=False, compare=False)
    _text: _Text = field(repr=False, compare=False)

    def evaluate(
        self, values: Mapping[str, Value], previous: Mapping[str, Value] | None = None
    ) -> Decimal | bool:
        """The rule's value; `previous` is last period's values (None: no such period)."""
        with decimal.localcontext(CONTEXT):
            evaluator = _Evaluator(self._text, values, previous)
            return evaluator.eval(self.source, previously_parsed=self._tree)  # type: ignore[no-any-return]


class _Checker:
    def __init__(self, text: _Text, allowed: Collection[str]) -> None:
        self.text, self.allowed = text, frozenset(allowed)
        self.fields: set[str] = set()
        self.prev_fields: set[str] = set()
        self.problems: list[tuple[int, str]] = []

    def problem(self, position: int, reason: str) -> bool:
        self.problems.append((position, reason))
        return False

    def visit(self, node: ast.AST, depth: int = 0) -> bool:
        """Record what is wrong under `node`; True when it reads no field (a constant)."""
        at = self.text.of(node)
        if depth > MAX_DEPTH:
            return self.problem(at, _("The rule is nested too deeply"))
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str | bytes):
                return self.problem(at, _("Text is not allowed in a rule"))
            if isinstance(value, bool) or not isinstance(value, int | float):
                return self.problem(at, _("Only numbers and field names are allowed"))
            if isinstance(value, int):  # math.isfinite overflows on ints beyond a float
                finite = value.bit_length() <= 1000
            else:
                finite = math.isfinite(value)
            return finite or self.problem(at, _("This number is too large"))
        if isinstance(node, ast.Name):
            if node.id not in self.allowed:
                return self.problem(at, _("Unknown field %(name)s", name=node.id))
            self.fields.add(node.id)
            return False
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.Compare | ast.BoolOp | ast.IfExp):
            parts = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
            for k, op in enumerate(getattr(node, "ops", [getattr(node, "op", ast.And())])):
                if type(op) not in _OPERATORS and not isinstance(op, ast.boolop):
                    where = at if isinstance(node, ast.UnaryOp) else self.text.after(parts[k])
                    return self.problem(where, _("This operator is not allowed"))
            return self.children(parts, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute | ast.Subscript):  # report at the "." or "["
            self.visit(node.value, depth + 1)
            at = self.text.after(node.value)
        return self.problem(at, next(str(r) for t, r in _REFUSALS if isinstance(node, t)))

    def call(self, node: ast.Call, depth: int) -> bool:
        at = self.text.of(node)
        if not isinstance(node.func, ast.Name):
            self.visit(node.func, depth + 1)
            return self.problem(at, _("Only min, max, abs, round and prev can be called"))
        name = node.func.id
        if name not in _ARITY:
            return self.problem(at, _("Unknown function %(name)s", name=name))
        low, high = _ARITY[name]
        starred = any(isinstance(a, ast.Starred) for a in node.args)
        if node.keywords or starred or not low <= len(node.args) <= high:
            return self.problem(at, _("Wrong number of values for %(name)s()", name=name))
        if name == "round" and len(node.args) == 2:
            p = node.args[1]
            if not (isinstance(p, ast.Constant) and type(p.value) is int and p.value <= MAX_PLACES):
                reason = _("round() keeps 0 to %(max)s decimal places", max=MAX_PLACES)
                return self.problem(self.text.of(p), reason)
        if name != "prev":
            return self.children(node.args, depth)
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id in self.allowed:
            self.prev_fields.add(arg.id)
            return False
        return self.problem(self.text.of(arg), _("prev() takes the name of a field"))

    def children(self, nodes: list[ast.expr], depth: int) -> bool:
        constant = [self.visit(n, depth + 1) for n in nodes]
        if all(constant):
            return True
        for n, c in zip(nodes, constant, strict=True):
            if c:
                self.fold(n)
        return False

    def fold(self, node: ast.expr) -> None:
        """Compute a constant part now, so that its errors show when the rule is saved."""
        try:
            with decimal.localcontext(CONTEXT):
                _Evaluator(self.text, {}, None).eval("", previously_parsed=node)
        except RuleEvaluationError as exc:
            self.problem(exc.position or self.text.of(node), exc.reason)


def compile_rule(source: str, fields: Collection[str]) -> Rule:
    """Check `source` against the grammar above and `fields`; raise RuleError if wrong."""
    if len(source) > MAX_LENGTH:
        reason = _("A rule may be at most %(max)s characters", max=MAX_LENGTH)
        raise RuleError(reason, MAX_LENGTH + 1)
    flat = source.translate(_FLATTEN)
    for i, char in enumerate(flat):
        if ord(char) < 32 or ord(char) == 127 or 0xD800 <= ord(char) <= 0xDFFF:  # or surrogate
            raise RuleError(_("This character is not allowed"), i + 1)
    body = flat.lstrip(" ")
    lead = len(flat) - len(body)
    if not body.strip():
        raise RuleError(_("The rule is empty"), 1)
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        position = lead + exc.offset if exc.offset else len(source) + 1
        if "never closed" in exc.msg:
            reason = _("This bracket is never closed")
        elif "unmatched" in exc.msg or "does not match" in exc.msg:
            reason = _("This bracket does not match")
        elif source[position - 1 : position] == "=":
            reason = _("Use == to compare two values")
        else:
            reason = _("This is not a valid expression")
        raise RuleError(reason, position) from None
    text = _Text(body.encode(), lead)
    checker = _Checker(text, fields)
    if checker.visit(tree.body):
        checker.fold(tree.body)
    if checker.problems:
        position, reason = min(checker.problems, key=lambda p: p[0])
        raise RuleError(reason, position)
    return Rule(source, frozenset(checker.fields), frozenset(checker.prev_fields), tree.body, text)
