"""The ``--json`` encoder: dataclasses as objects, dates and times as ISO 8601, enums as their
values, NumPy numbers as numbers, every digit of a float kept, and NaN or infinity as null
(strict JSON parsers refuse NaN)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from pathlib import Path

import numpy as np
import pytest

from pipelines.cli.as_json import dumps, plain


class Tier(StrEnum):
    RED = "red"


class Level(Enum):
    HIGH = 3


@dataclass(frozen=True)
class Inner:
    when: datetime
    tier: Tier


@dataclass(frozen=True)
class Outer:
    day: date
    inner: Inner
    figures: tuple[float, ...]
    counts: dict[str, int]
    where: Path


def test_dataclasses_become_plain_typed_json() -> None:
    body = Outer(date(2020, 12, 31), Inner(datetime(2026, 12, 1, 8, 30, tzinfo=UTC), Tier.RED),
                 (0.1234567890123456, math.nan, math.inf), {"A": 3}, Path("/tmp/x"))
    text = dumps(body)
    assert json.loads(text) == {
        "day": "2020-12-31",
        "inner": {"when": "2026-12-01T08:30:00+00:00", "tier": "red"},
        "figures": [0.1234567890123456, None, None], "counts": {"A": 3}, "where": "/tmp/x"}
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize(("value", "expected"), [
    (np.int64(7), 7), (np.float64(0.25), 0.25), (np.float32("nan"), None), (np.bool_(True), True),
    (Level.HIGH, 3), ({1: "一"}, {"1": "一"}), (frozenset({"x"}), ["x"]), (None, None),
])
def test_scalars(value: object, expected: object) -> None:
    assert plain(value) == expected


def test_chinese_text_is_kept_as_it_is() -> None:
    assert dumps({"zh": "隔离"}) == '{\n  "zh": "隔离"\n}'
