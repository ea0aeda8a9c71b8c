"""Arrow text membership agrees with a Python set on text, nulls never match, numbers as text."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pytest

from features.ingest.membership import is_in


def _null(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _python(s: pd.Series, values: list[object]) -> list[bool]:
    """The reference: plain set membership on text, with a missing value never a member."""
    known = {str(v) for v in values if not _null(v)}
    return [not _null(v) and str(v) in known for v in s.astype(object)]


S_OBJECT = pd.Series(["a", None, np.nan, "b", "", "A", "nan", "None", "键"], dtype=object)
VALUES: list[object] = ["a", "", "键", None, np.nan, "zzz"]


@pytest.mark.parametrize("container", [list, set, pd.Series, pd.Index, iter])
def test_text_with_nulls_matches_a_python_set(
    container: Callable[[list[object]], Iterable[object]],
) -> None:
    values = container(VALUES) if container is not pd.Series else pd.Series(VALUES, dtype=object)
    got = is_in(S_OBJECT, values)
    assert got.dtype == bool
    assert got.tolist() == _python(S_OBJECT, VALUES)
    assert got.tolist() == [True, False, False, False, True, False, False, False, True]


def test_pandas_string_dtype_behaves_like_object_text() -> None:
    s = pd.Series(["a", None, "b", "c"], dtype="str")
    assert is_in(s, pd.Series(["c", "a"], dtype="str")).tolist() == [True, False, False, True]
    assert is_in(s, ["b", None]).tolist() == [False, False, True, False]


def test_spelled_out_nan_and_none_are_text_not_missing() -> None:
    s = pd.Series(["nan", "None", "x"])
    assert is_in(s, ["nan", "None"]).tolist() == [True, True, False]
    assert is_in(s, [None, np.nan]).tolist() == [False, False, False]


def test_mixed_series_values_are_compared_by_their_text() -> None:
    s = pd.Series(["a", 1, "1", 2.5, None, np.nan], dtype=object)
    got = is_in(s, pd.Series(["1", "2.5"]))
    assert got.tolist() == [False, True, True, True, False, False]
    assert got.tolist() == _python(s, ["1", "2.5"])
    # numbers in the value set go through text too: 1 matches 1, but 1.0 is "1.0"
    assert is_in(pd.Series([1, 2, 3]), pd.Series([3, 1])).tolist() == [True, False, True]
    assert is_in(pd.Series([1.0, 2.0]), pd.Series([1])).tolist() == [False, False]


def test_empty_inputs() -> None:
    assert is_in(pd.Series([], dtype="str"), ["a"]).tolist() == []
    assert is_in(pd.Series(["a", None]), []).tolist() == [False, False]


def test_membership_in_a_large_key_set() -> None:
    keys = pd.Series([f"K{i:07d}" for i in range(50_000)], dtype="str")
    probe = pd.Series(["K0000000", "K0049999", "K0050000", None], dtype="str")
    assert is_in(probe, keys).tolist() == [True, True, False, False]


def test_a_list_of_numbers_is_compared_as_text_like_a_series() -> None:
    assert is_in(pd.Series(["1", "2"]), [1]).tolist() == [True, False]
