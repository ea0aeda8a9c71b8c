"""Conditions: only the whitelist compiles; missing values never make a comparison true; the
column path and the one-row path agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.rules.expression import ExpressionError, compile_condition

NAMES = ("a", "b", "c")


@pytest.mark.parametrize(("source", "message"), [
    ("__import__('os')", "a call (only abs() is allowed)"),
    ("__import__('os').system('true') == 0", "a call (only abs() is allowed)"),
    ("os.system > 0", "attribute access"),
    ("a.real > 1", "attribute access"),
    ("max(a, b) > 1", "a call (only abs() is allowed)"),
    ("abs(a, b) > 1", "abs() takes exactly one argument"),
    ("a[0] > 1", "indexing"),
    ("a ** 2 > 1", "operator Pow is not allowed"),
    ("a // 2 > 1", "operator FloorDiv is not allowed"),
    ("'x' == 'x'", "only numeric constants"),
    ("True", "only numeric constants"),
    ("a in b", "comparison In is not allowed"),
    ("(lambda: 1)() > 0", "a call"),
    ("(a if b else c) > 1", "if-else"),
    ("d > 1", "unknown feature 'd'"),
    ("a + 1", "is a number, not a condition"),
    ("(a > 1) + 1 > 0", "arithmetic needs a number, got a condition"),
    ("not a", "not needs a condition, got a number"),
    ("a > 1 and b", "and/or needs a condition, got a number"),
    ("a >", "cannot parse"),
])
def test_only_the_whitelist_compiles(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as e:
        compile_condition(source, NAMES)
    assert message in str(e.value)


def test_missing_values_make_every_comparison_false() -> None:
    frame = pd.DataFrame({"a": [np.nan, 1.0], "b": [2.0, np.nan]})
    for op in ("<", "<=", ">", ">=", "==", "!="):
        expr = compile_condition(f"a {op} b", NAMES)
        assert not expr.mask(frame).any(), op
        assert not expr.test({"a": None, "b": 2.0}) and not expr.test({"b": 2.0}), op
    assert compile_condition("not a > 0", NAMES).test({})  # documented: plain negation


CASES = [
    "a >= 2.5",
    "a == 1 and b >= 2.5",
    "0 < a <= b < 3",
    "abs(a - b) / (c + 1) > 0.5 or not c != 0",
    "-a * 2 + b > c - 1",
    "a / b >= 1",
    "(a > 1 or b > 1) and not (c == 0)",
]


@pytest.mark.parametrize("source", CASES)
def test_columns_and_one_row_agree(source: str) -> None:
    rng = np.random.default_rng(1)
    values = rng.choice([np.nan, 0.0, 1.0, 2.0, 2.5, 3.0, -1.0], size=(400, 3))
    frame = pd.DataFrame(values, columns=list(NAMES))
    expr = compile_condition(source, NAMES)
    mask = expr.mask(frame)
    rows = [expr.test(r) for r in frame.to_dict("records")]
    assert mask.dtype == bool and mask.tolist() == rows
    assert 0 < mask.sum() < len(frame)


def test_a_constant_condition_covers_every_row_and_names_are_listed() -> None:
    expr = compile_condition("1 < 2 and b > a", NAMES)
    assert expr.names == ("b", "a")
    assert expr.mask(pd.DataFrame({"a": [0.0, 5.0], "b": [1.0, 1.0]})).tolist() == [True, False]
    with pytest.raises(KeyError, match="needs column 'b'"):
        expr.mask(pd.DataFrame({"a": [1.0]}))


def test_nullable_columns_are_read_as_missing() -> None:
    frame = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64")})
    assert compile_condition("a >= 1", NAMES).mask(frame).tolist() == [True, False, True]
