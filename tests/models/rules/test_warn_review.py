"""The credit model review's warning section: the rules in force on the test rows, a previous
grade only from the entity's previous test month end, rules over anomaly shares named as not
evaluated."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from models.rules.entity import parse_entity_rules
from models.rules.warn_review import warned_rows, warning_section
from models.scaling import GradeCuts, PointsScale

RULES = parse_entity_rules(b"""
version = 3
[anomaly]
threshold = 0.2
window_days = 365
[[rule]]
code = "grade_d"
tier = "red"
when = "grade == D"
zh = "D"
en = "D"
[[rule]]
code = "drop"
tier = "yellow"
when = "grade_drop >= 1"
zh = "drop"
en = "drop"
[[rule]]
code = "anomalous"
tier = "orange"
when = "contracts >= 3 and anomaly_share >= 0.3"
zh = "a"
en = "a"
""", "test.toml")
MODEL: Any = SimpleNamespace(scale=PointsScale(), cuts=GradeCuts())  # what the section reads
A, B, D = 0.01, 0.05, 0.5  # probabilities of grades A, B and D (models.scaling bands)


def _held() -> pd.DataFrame:
    rows = [("I1", "institution", "2020-01-31", A, 0), ("I1", "institution", "2020-02-29", B, 0),
            ("I1", "institution", "2020-03-31", D, 1), ("B1", "broker", "2020-02-29", D, 0),
            ("B1", "broker", "2020-01-31", A, 0), ("I2", "institution", "2020-01-31", B, 0)]
    return pd.DataFrame(rows, columns=["entity_id", "entity_kind", "as_of", "p_model", "y"]
                        ).assign(as_of=lambda f: pd.to_datetime(f["as_of"]))


def test_previous_grades_come_from_the_previous_test_month() -> None:
    out = warned_rows(RULES, _held(), MODEL)
    # sorted by entity and date: B1 (A then D), I1 (A, B, D), I2 (B)
    tiers = [t if isinstance(t, str) else None for t in out["tier"]]
    assert tiers == [None, "red", None, "yellow", "red", None]
    assert list(out["entity"]) == ["broker"] * 2 + ["institution"] * 4
    assert list(out["irregular"]) == [False, False, False, False, True, False]


def test_the_section_and_its_metrics() -> None:
    [section], metrics = warning_section(RULES, _held(), MODEL, "test")
    assert "anomalous" in section.note and "not evaluated" in section.note.lower()
    table = section.table.set_index(["entity", "tier"])
    assert table.at[("institution", "warned"), "entities"] == 2
    assert table.at[("institution", "red"), "precision"] == 1.0
    assert metrics["warning.tier.warned.institution.share"] == pytest.approx(0.5)
    assert metrics["warning.tier.scored.institution.precision"] == pytest.approx(0.25)
    assert warning_section(RULES, _held().drop(columns="y"), MODEL, "test") == ([], {})
