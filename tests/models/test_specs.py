"""Model specs: the production declarations hold together, any table gets a valid spec, and a
fit reads exactly the features its roles name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.fit import Policy, Roles, Selection, fit_risk_model
from models.panels import DESCRIPTIONS
from models.registry import ANOMALY_MODEL, CREDIT_MODEL, EXPERIMENT, EXTERNAL_EXPERIMENT
from models.specs import ANOMALY, CREDIT, Cluster, ModelSpec, table_spec
from tests.known_signal import credit_table

PRODUCTION = [ANOMALY, CREDIT]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return credit_table(3000, seed=4)


def test_production_specs_carry_their_registered_names_and_experiment() -> None:
    assert (ANOMALY.name, CREDIT.name) == (ANOMALY_MODEL, CREDIT_MODEL)
    assert {s.experiment for s in PRODUCTION} == {EXPERIMENT}
    assert (ANOMALY.policy.kind, CREDIT.policy.kind) == ("anomaly", "credit")
    assert ANOMALY.panel != CREDIT.panel


@pytest.mark.parametrize("spec", PRODUCTION, ids=lambda s: s.name)
def test_a_production_spec_never_feeds_a_key_a_label_or_the_truth_to_the_model(
    spec: ModelSpec,
) -> None:
    c = spec.columns
    assert len(set(c.features)) == len(c.features)
    assert not {c.label, c.time, *c.keys, *c.truth} & set(c.features)
    assert c.ceiling is None or c.ceiling in c.truth
    # every feature is worded for reason codes; constraints only say "riskier" or "safer"
    assert all(f in DESCRIPTIONS for f in c.features)
    assert set(spec.policy.monotone.values()) <= {-1, 1}
    assert spec.cluster is not None


def test_credit_intervals_resample_entities_and_anomaly_folds_keep_schemes_whole() -> None:
    assert CREDIT.cluster is not None and ANOMALY.cluster is not None
    assert CREDIT.cluster.resampled == "entity_id" and "entity_id" in CREDIT.columns.keys
    assert CREDIT.selection is not None and CREDIT.selection.within in CREDIT.columns.features
    assert ANOMALY.cluster.resampled is None and ANOMALY.selection is None
    assert ANOMALY.review is not None and ANOMALY.review.rule_score in ANOMALY.columns.keys


def test_roles_and_clusters_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="never features"):
        Roles("y", ("a", "y"))
    with pytest.raises(ValueError, match="never features"):
        Roles("y", ("a", "entity_id"), keys=("entity_id",))
    with pytest.raises(ValueError, match="single key"):
        Cluster(("institution_id", "broker_id"), intervals=True)


def test_a_spec_refuses_a_column_its_fit_or_review_reads_but_never_keeps() -> None:
    roles = Roles("y", ("a", "b"), time="t", keys=("entity_id",), truth=("pattern",))
    assert ANOMALY.review is not None
    with pytest.raises(ValueError, match="selection within"):
        ModelSpec("m", "p", "e", roles, Policy(), selection=Selection(within="kind"))
    with pytest.raises(ValueError, match="cluster resampled"):
        ModelSpec("m", "p", "e", roles, Policy(), cluster=Cluster(("seller_id",), True))
    with pytest.raises(ValueError, match="review office"):
        ModelSpec("m", "p", "e", roles, Policy(), review=replace(ANOMALY.review, office="o"))
    with pytest.raises(ValueError, match="pattern"):
        ModelSpec("m", "p", "e", replace(roles, truth=()), Policy(), review=ANOMALY.review)
    ModelSpec("m", "p", "e", roles, Policy(), selection=Selection(within="a"),
              cluster=Cluster(("entity_id",), True))


def test_any_table_gets_a_valid_spec_under_its_own_name(table: pd.DataFrame) -> None:
    spec = table_spec(Path("data/Bank Loans.csv"), table, "y", "as_of", ["region", "nowhere"])
    assert spec.name == "external-bank-loans"
    assert spec.experiment == f"{EXTERNAL_EXPERIMENT}/external-bank-loans"
    assert spec.panel == str(Path("data/Bank Loans.csv"))
    assert spec.columns.features == tuple(c for c in table.columns if c not in ("y", "as_of"))
    assert (spec.columns.label, spec.columns.time) == ("y", "as_of")
    assert spec.columns.segments == ("region",)  # a segment the table lacks is left out
    assert spec.missing(table.columns) == []
    assert spec.policy == Policy() and spec.selection is spec.cluster is spec.review is None
    assert table_spec(Path("x.csv"), table, "y", name="bank-pilot").name == "bank-pilot"
    with pytest.raises(ValueError, match="production"):
        table_spec(Path("x.csv"), table, "y", name=CREDIT_MODEL)


def test_a_spec_names_the_columns_a_table_lacks(table: pd.DataFrame) -> None:
    assert CREDIT.missing(table.columns)[:2] == list(CREDIT.columns.features[:2])
    assert "office_id" in ANOMALY.missing(table.columns)


def test_a_fit_reads_exactly_the_features_its_roles_name(table: pd.DataFrame) -> None:
    roles = Roles("y", ("past_conduct_records", "complaints", "trained_share", "region"),
                  time="as_of", segments=("entity_kind",), keys=("entity_id",))
    fit = fit_risk_model(table, roles, Policy(baseline=False))
    assert fit.model.features == roles.features  # numeric first, then text, as declared
    assert "noise" not in fit.held_out and "amount_yuan" not in fit.held_out
    assert {"entity_kind", "entity_id"} <= set(fit.held_out.columns)
    assert not fit.columns.dropped


def test_the_capacity_review_keeps_its_metrics_without_a_truth_file() -> None:
    assert ANOMALY.review is not None
    review = ANOMALY.review
    held = pd.DataFrame({"y": [1, 0, 0, 1], "p_model": [0.9, 0.1, 0.4, 0.3],
                         "rule_score": [0.0, 0.5, 0.0, 0.0], "office_id": ["A", "A", "B", "B"],
                         "seller_id": ["S1", "S2", "S3", "S4"]})
    ranked = review.rankings(held)
    np.testing.assert_array_equal(ranked["combined"], [0.9, 0.5, 0.4, 0.3])
    assert review.sections(held, 1, "default rules") == []
    assert review.metrics(held, 1, [])["anomaly_precision_at_k_per_office"] == 0.5
