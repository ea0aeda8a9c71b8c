"""Rule conditions (规则条件): a small, safe expression language over feature columns.

A condition is parsed with :mod:`ast` and compiled into a tree of numpy operations; nothing is
ever passed to ``eval``. Only these are allowed: declared feature names, numeric constants,
comparisons (``< <= > >= == !=``, chained), ``and`` / ``or`` / ``not``, ``+ - * /``, unary
minus and ``abs()``. The same compiled tree runs on whole columns (batch) and on one row (the
real-time check: each value becomes a one-element array), so both paths give the same answer
by construction.

A missing value (NaN) makes every comparison false, ``!=`` included, so a rule never fires on
what it cannot see. ``not`` is plain negation: ``not x > 1`` is true when ``x`` is missing;
write ``x <= 1`` to require a value.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["number", "condition"]
Fn = Callable[[Mapping[str, np.ndarray]], np.ndarray]


class ExpressionError(ValueError):
    """A condition that cannot be compiled; the message is one line."""


def _ne(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # numpy says nan != x is true; a missing value must make a comparison false
    return np.not_equal(a, b) & (a == a) & (b == b)


_COMPARE: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: _ne,
}
_ARITHMETIC: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
# what a reader of the error message calls the construct that was refused
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Call: "a call (only abs() is allowed)",
    ast.Lambda: "lambda",
    ast.IfExp: "if-else",
    ast.NamedExpr: "assignment",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
}


@dataclass(frozen=True)
class Expression:
    """A compiled condition: evaluate with :meth:`mask` (columns) or :meth:`test` (one row)."""

    source: str
    names: tuple[str, ...]  # the feature columns it reads, in order of first use
    _fn: Fn = field(repr=False, compare=False)

    def mask(self, columns: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Boolean array, one value per row of ``columns``."""
        env = {}
        n = len(columns) if isinstance(columns, pd.DataFrame) else None
        for name in self.names:
            if name not in columns:
                raise KeyError(f"condition {self.source!r} needs column {name!r}")
            col = columns[name]
            values = (col.to_numpy(dtype=np.float64, na_value=np.nan)
                      if isinstance(col, pd.Series) else np.asarray(col, dtype=np.float64))
            env[name] = values
            n = len(values) if n is None else n
        with np.errstate(all="ignore"):  # x / 0 is inf or NaN, then compared like any value
            result = np.asarray(self._fn(env), dtype=bool)
        return np.broadcast_to(result, (n or 0,)).copy()

    def test(self, row: Mapping[str, float | None]) -> bool:
        """The same condition on one row (missing keys and None count as missing values)."""
        env = {}
        for name in self.names:
            value = row.get(name)
            env[name] = np.array([np.nan if value is None else float(value)], dtype=np.float64)
        with np.errstate(all="ignore"):
            return bool(np.asarray(self._fn(env), dtype=bool).reshape(-1)[0])


def compile_condition(source: str, allowed: Collection[str]) -> Expression:
    """Parse and compile ``source``; ``allowed`` are the feature names it may read."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse {source!r}: {e.msg}") from None
    names: list[str] = []
    fn, kind = _compile(tree.body, allowed, names)
    if kind != "condition":
        raise ExpressionError(f"{source!r} is a number, not a condition (compare it with >=, ==…)")
    return Expression(source.strip(), tuple(names), fn)


def _compile(node: ast.expr, allowed: Collection[str], names: list[str]) -> tuple[Fn, Kind]:
    if isinstance(node, ast.Name):
        if node.id not in allowed:
            raise ExpressionError(f"unknown feature {node.id!r}")
        if node.id not in names:
            names.append(node.id)
        key = node.id
        return (lambda env: env[key]), "number"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"only numeric constants are allowed, got {node.value!r}")
        value = np.float64(node.value)
        return (lambda env: value), "number"
    if isinstance(node, ast.UnaryOp):
        inner, kind = _compile(node.operand, allowed, names)
        if isinstance(node.op, ast.USub):
            _expect(kind, "number", "unary minus")
            return (lambda env: -inner(env)), "number"
        if isinstance(node.op, ast.Not):
            _expect(kind, "condition", "not")
            return (lambda env: ~inner(env)), "condition"
        raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.BinOp):
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        left, right = (_number(n, allowed, names, "arithmetic") for n in (node.left, node.right))
        return (lambda env: op(left(env), right(env))), "number"
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, allowed, names) for v in node.values]
        for _, kind in parts:
            _expect(kind, "condition", "and/or")
        fns = [f for f, _ in parts]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return (lambda env: functools.reduce(combine, [f(env) for f in fns])), "condition"
    if isinstance(node, ast.Compare):
        return _compare(node, allowed, names), "condition"
    if isinstance(node, ast.Call):
        return _abs(node, allowed, names), "number"
    what = _REFUSED.get(type(node), type(node).__name__)
    raise ExpressionError(f"{what} is not allowed")


def _expect(kind: Kind, wanted: Kind, where: str) -> None:
    if kind != wanted:
        raise ExpressionError(f"{where} needs a {wanted}, got a {kind}")


def _number(node: ast.expr, allowed: Collection[str], names: list[str], where: str) -> Fn:
    fn, kind = _compile(node, allowed, names)
    _expect(kind, "number", where)
    return fn


def _compare(node: ast.Compare, allowed: Collection[str], names: list[str]) -> Fn:
    operands = [_number(n, allowed, names, "a comparison")
                for n in (node.left, *node.comparators)]
    ops = []
    for op in node.ops:
        f = _COMPARE.get(type(op))
        if f is None:
            raise ExpressionError(f"comparison {type(op).__name__} is not allowed")
        ops.append(f)

    def run(env: Mapping[str, np.ndarray]) -> np.ndarray:
        values = [f(env) for f in operands]
        pairs = [op(a, b) for op, a, b in zip(ops, values, values[1:], strict=False)]
        return functools.reduce(np.logical_and, pairs)

    return run


def _abs(node: ast.Call, allowed: Collection[str], names: list[str]) -> Fn:
    if not (isinstance(node.func, ast.Name) and node.func.id == "abs"):
        raise ExpressionError("a call (only abs() is allowed) is not allowed")
    if len(node.args) != 1 or node.keywords:
        raise ExpressionError("abs() takes exactly one argument")
    inner = _number(node.args[0], allowed, names, "abs()")
    return lambda env: np.abs(inner(env))
