"""The pure scoring functions on hand-built frames: which contract scores an entity sees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.entity_evidence import aggregate_names, entity_anomaly
from models.scoring import (
    CreditInputs,
    ModelRef,
    ScoringError,
    contract_scores_at,
    covered_through,
    credit_rows,
    entity_kind,
)


class ConstantModel:
    """Stands in for the anomaly RiskModel: every new contract gets the same probability."""

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        return np.full(len(df), 0.9)


def _contracts(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Contracts of institutions only (no broker): registration day, institution, score."""
    return pd.DataFrame(
        [(f"C{i}", pd.Timestamp(d), inst, None, p) for i, (d, inst, p) in enumerate(rows)],
        columns=["contract_id", "registered_date", "institution_id", "broker_id", "p_anomaly"],
    )


STORED = _contracts([("2019-03-01", "I1", 0.1), ("2019-06-30", "I1", 0.2),
                     ("2019-06-30", "I2", 0.3)])
LATER = _contracts([("2019-08-01", "I1", np.nan), ("2019-12-01", "I1", np.nan)]
                   ).drop(columns="p_anomaly")


def test_stored_scores_serve_their_days_and_the_model_scores_later_contracts() -> None:
    through = covered_through(STORED)
    assert through == pd.Timestamp("2019-06-30")
    at = contract_scores_at(STORED, ConstantModel(), LATER, pd.Timestamp("2019-09-30"), through)
    assert at["p_anomaly"].tolist() == [0.1, 0.2, 0.3, 0.9]  # December is after the as-of date
    # a later contract dated inside the covered days is left out, as training left it out
    early = LATER.assign(registered_date=pd.Timestamp("2019-05-01"))
    at = contract_scores_at(STORED, ConstantModel(), early, pd.Timestamp("2019-09-30"), through)
    assert at["p_anomaly"].tolist() == [0.1, 0.2, 0.3]


def test_credit_rows_aggregate_exactly_as_training_does() -> None:
    as_of = pd.Timestamp("2019-12-31")
    scores = contract_scores_at(STORED, ConstantModel(), LATER, as_of, covered_through(STORED))
    entities = {"institution": pd.DataFrame({"entity_id": ["I1", "I3"], "as_of": [as_of] * 2,
                                             "inst_x": [1.0, 2.0]})}
    rows = credit_rows(entities, scores, as_of).set_index("entity_id")
    expected = entity_anomaly(scores, "institution_id", [as_of], "inst").set_index("entity_id")
    names = list(aggregate_names("inst"))
    pd.testing.assert_frame_equal(rows.loc[["I1"], names], expected.loc[["I1"], names])
    assert rows.loc["I1", "inst_anomaly_max_all"] == 0.9
    # no contracts: none expected, the maxima unknown (as in the training panel)
    a = aggregate_names("inst")
    assert (rows.loc["I3", list(a.zero_when_none())] == 0).all() and np.isnan(rows.loc["I3", a.max])
    assert (rows["entity_kind"] == "institution").all()


def test_unknown_entities_are_one_line_errors() -> None:
    entities = {"institution": pd.DataFrame({"entity_id": ["I1"]}),
                "broker": pd.DataFrame({"entity_id": ["B1"]})}
    assert entity_kind(entities, "B1") == "broker"
    with pytest.raises(ScoringError, match="unknown entity 'X9'") as e:
        entity_kind(entities, "X9")
    assert "\n" not in str(e.value)


def test_credit_inputs_round_trip_and_model_labels() -> None:
    inputs = CreditInputs("techcredit-anomaly", "3", ("inst_a", "brk_b"))
    assert CreditInputs.from_dict(inputs.as_dict()) == inputs
    with pytest.raises(ValueError, match="features must be a list"):
        CreditInputs.from_dict({**inputs.as_dict(), "features": "inst_a"})
    assert ModelRef("m", "2", "champion").label() == "m v2 @champion"
    assert ModelRef("m", "2", None).label() == "m v2 (by version)"

