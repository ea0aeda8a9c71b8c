"""Feature tables to model input: column inference with reasons, the encoder, binary targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.table import (
    MIN_LEVEL_COUNT,
    Columns,
    Encoder,
    coerce_target,
    fit_encoder,
    infer_columns,
)


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "y": [0, 1] * 6,
        "amount": np.arange(12.0),
        "flag": [True, False] * 6,
        "as_of": pd.date_range("2020-01-31", periods=12, freq="ME"),
        "const": ["k"] * 12,
        "empty": [np.nan] * 12,
        "entity_id": [f"E{i:02d}" for i in range(12)],
        "region": ["a"] * 6 + ["b"] * 5 + ["c"],
        "kept_out": np.arange(12),
    })


def test_infer_columns_keeps_features_and_says_why_others_were_dropped() -> None:
    cols = infer_columns(_table(), "y", exclude=["kept_out"])
    assert cols.numeric == ("amount", "flag")  # booleans count as numbers
    assert cols.categorical == ("region",)
    assert cols.features == ("amount", "flag", "region")
    assert dict(cols.dropped) == {
        "as_of": "date column",
        "const": "constant",
        "empty": "constant",
        "entity_id": "identifier-like text (too many distinct values)",
    }


def test_infer_columns_refuses_a_table_without_features() -> None:
    with pytest.raises(ValueError, match="no usable feature columns besides the target 'y'"):
        infer_columns(_table()[["y", "const", "entity_id"]], "y")


def test_encoder_keeps_levels_seen_often_enough_in_sorted_order() -> None:
    df = _table()
    enc = fit_encoder(df, infer_columns(df, "y", exclude=["kept_out"]))
    # "c" occurs once (< MIN_LEVEL_COUNT) and is pooled into missing
    assert MIN_LEVEL_COUNT == 5
    assert enc.levels == {"region": ("a", "b")}
    assert enc.features == ("amount", "flag", "region")
    assert enc.categorical_index == [2]


@pytest.fixture
def enc() -> Encoder:
    return Encoder(("amount", "flag"), {"region": ("a", "b")})


def test_matrix_codes_levels_and_sends_unseen_or_missing_to_nan(enc: Encoder) -> None:
    df = pd.DataFrame({"amount": ["3", "x", None, 2.5], "flag": [True, False, None, True],
                       "region": ["b", "zzz", None, "a"], "other": [1, 2, 3, 4]})
    m = enc.matrix(df)
    expected = np.array([[3.0, 1.0, 1.0], [np.nan, 0.0, np.nan],
                         [np.nan, np.nan, np.nan], [2.5, 1.0, 0.0]])
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.float64


def test_row_agrees_with_matrix_on_seen_unseen_and_missing_values(enc: Encoder) -> None:
    records: list[dict[str, object]] = [
        {"amount": 3, "flag": True, "region": "b"},
        {"amount": 1.5, "flag": False, "region": "zzz"},  # unseen level
        {"region": None},  # everything missing
        {"amount": "2", "flag": 0, "region": "a", "extra": "ignored"},
    ]
    for rec in records:
        frame = pd.DataFrame([{k: rec.get(k) for k in enc.features}])
        np.testing.assert_array_equal(enc.row(rec), enc.matrix(frame))
    np.testing.assert_array_equal(enc.row(records[1]), [[1.5, 0.0, np.nan]])


def test_matrix_names_the_missing_columns(enc: Encoder) -> None:
    with pytest.raises(KeyError, match=r"\['flag', 'region'\]"):
        enc.matrix(pd.DataFrame({"amount": [1.0]}))


def test_encoder_survives_a_json_round_trip(enc: Encoder) -> None:
    data = enc.to_json()
    assert data == {"numeric": ["amount", "flag"], "levels": {"region": ["a", "b"]}}
    back = Encoder.from_json(data)
    assert back == enc
    np.testing.assert_array_equal(back.row({"amount": 1, "region": "b"}), [[1.0, np.nan, 1.0]])


def test_columns_features_are_numeric_then_categorical() -> None:
    assert Columns(("b", "a"), ("z",)).features == ("b", "a", "z")


def test_coerce_target_accepts_binary_columns() -> None:
    assert coerce_target(pd.Series([True, False, True])).tolist() == [1, 0, 1]
    assert coerce_target(pd.Series([0.0, 1.0])).tolist() == [0, 1]
    assert coerce_target(pd.Series([1, 1, 1])).tolist() == [1, 1, 1]
    assert coerce_target(pd.Series([0, 1])).dtype.kind == "i"


@pytest.mark.parametrize(("values", "message"), [
    ([0, 1, 2], r"target 'bad' must be binary 0/1, found values \['0', '1', '2'\]"),
    (["yes", "no"], r"target 'bad' must be binary 0/1, found values \['no', 'yes'\]"),
    (["0", "1"], r"target 'bad' must be binary 0/1"),
    ([0, None, 1, None], r"target 'bad' has 2 missing values"),
])
def test_coerce_target_names_the_column_when_not_binary(values: list[object], message: str
                                                        ) -> None:
    with pytest.raises(ValueError, match=message):
        coerce_target(pd.Series(values, name="bad"))
