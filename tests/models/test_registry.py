"""MLflow registry against a real SQLite tracking store in tmp_path."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.settings import GateThresholds
from models.fit import fit_risk_model
from models.registry import (
    CHALLENGER,
    CHAMPION,
    CREDIT_MODEL,
    REVIEW_EXPERIMENT,
    GateRefused,
    Outcome,
    Store,
    alias_version,
    load_alias,
    log_training,
    promote,
    review_history,
)
from models.review import build_review
from models.review_render import plots, render_html
from tests.known_signal import credit_table

LENIENT = GateThresholds(
    min_auc=0.5,
    max_psi=1.0,
    min_calibration_ratio=0.1,
    max_calibration_ratio=10,
    auc_tolerance=1.0,
    min_segment_auc=0.0,
)
STRICT = GateThresholds(
    min_auc=0.99, max_psi=0.01, min_calibration_ratio=0.99, max_calibration_ratio=1.01
)


def _log(store: Store, seed: int):
    fit = fit_risk_model(
        credit_table(3000, seed=seed),
        "y",
        "as_of",
        exclude=["entity_id"],
        keep=["region", "entity_kind"],
        monotone={"past_conduct_records": 1},
    )
    champion = load_alias(store, CREDIT_MODEL)
    review = build_review(
        fit,
        segments=["region", "entity_kind"],
        champion=champion,
        champion_version=alias_version(store, CREDIT_MODEL, CHAMPION),
    )
    images = plots(review, fit.held_out)
    return log_training(
        store,
        fit,
        review,
        render_html(review, images),
        images,
        model_name=CREDIT_MODEL,
        data={"source": "known_signal"},
    ), review


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    home = tmp_path_factory.mktemp("mlflow")
    return Store(f"sqlite:///{home / 'mlflow.db'}", (home / "artifacts").as_uri())


def test_register_review_promote_and_reload(store: Store) -> None:
    logged, review = _log(store, seed=21)
    client = store.client()
    assert alias_version(store, CREDIT_MODEL, CHALLENGER) == logged.version == "1"
    assert alias_version(store, CREDIT_MODEL, CHAMPION) is None
    run = client.get_run(logged.run_id)
    assert run.data.metrics["test_auc"] == pytest.approx(review.metrics["test_auc"])
    assert "baseline_auc" in run.data.metrics and run.data.params["method"] == "out-of-time"
    names = {a.path for a in client.list_artifacts(logged.run_id, "review")}
    assert {"review/review.html", "review/review.json", "review/calibration.png"} <= names
    exp = client.get_experiment(run.info.experiment_id)
    assert exp.artifact_location.startswith(store.artifact_root)

    with pytest.raises(GateRefused, match="test_auc"):
        promote(store, CREDIT_MODEL, "1", reviewer="王审", note="first look", thresholds=STRICT)
    assert alias_version(store, CREDIT_MODEL, CHAMPION) is None
    assert client.get_model_version(CREDIT_MODEL, "1").tags["review_outcome"] == "refused"

    with pytest.raises(ValueError, match="reviewer"):
        promote(store, CREDIT_MODEL, "1", reviewer=" ", note="x", thresholds=LENIENT)

    decision = promote(
        store,
        CREDIT_MODEL,
        "1",
        reviewer="王审",
        note="accepted: pilot only",
        thresholds=STRICT,
        override=True,
    )
    assert not decision.passed
    tags = client.get_model_version(CREDIT_MODEL, "1").tags
    assert tags["reviewer"] == "王审" and tags["review_note"] == "accepted: pilot only"
    assert tags["override"] == "true" and tags["review_outcome"] == "promoted"
    assert alias_version(store, CREDIT_MODEL, CHAMPION) == "1"

    # models:/techcredit-credit@champion reproduces the predictions logged with the run
    sample = pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=logged.run_id, artifact_path="reproduce.parquet")
    )
    served = mlflow.pyfunc.load_model(f"models:/{CREDIT_MODEL}@{CHAMPION}").predict(sample)
    np.testing.assert_allclose(served["pd"].to_numpy(), sample["p_model"].to_numpy(), rtol=1e-12)
    assert set(served["grade"]) <= {"A", "B", "C", "D"}


def test_new_version_is_challenger_compared_with_champion(store: Store) -> None:
    # The module's store may already hold a champion from the test above (same worker) or not
    # (another worker): make sure there is one, and remember which.
    champion = alias_version(store, CREDIT_MODEL, CHAMPION)
    if champion is None:
        first, _ = _log(store, seed=21)
        promote(
            store, CREDIT_MODEL, first.version, reviewer="李评", note="first", thresholds=LENIENT
        )
        champion = first.version
    logged, review = _log(store, seed=22)
    assert alias_version(store, CREDIT_MODEL, CHALLENGER) == logged.version
    assert alias_version(store, CREDIT_MODEL, CHAMPION) == champion
    assert f"champion v{champion}" in review.comparison
    promote(store, CREDIT_MODEL, logged.version, reviewer="李评", note="passes", thresholds=LENIENT)
    assert alias_version(store, CREDIT_MODEL, CHAMPION) == logged.version
    tags = store.client().get_model_version(CREDIT_MODEL, logged.version).tags
    assert tags["gate_passed"] == "true" and tags["override"] == "false"


def test_every_decision_is_kept_in_order_with_its_own_reviewer_note_and_gate(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("reviews")
    store = Store(f"sqlite:///{home / 'mlflow.db'}", (home / "artifacts").as_uri())
    logged, _ = _log(store, seed=23)
    v = logged.version
    assert review_history(store, CREDIT_MODEL) == []
    with pytest.raises(GateRefused):
        promote(store, CREDIT_MODEL, v, reviewer="王审", note="too weak", thresholds=STRICT)
    promote(
        store, CREDIT_MODEL, v, reviewer="李评", note="pilot only", thresholds=STRICT, override=True
    )
    promote(store, CREDIT_MODEL, v, reviewer="赵核", note="re-review", thresholds=LENIENT)

    refused, overridden, passed = review_history(store, CREDIT_MODEL, v)
    assert (refused.reviewer, refused.note, refused.outcome) == (
        "王审",
        "too weak",
        Outcome.REFUSED,
    )
    assert (overridden.reviewer, overridden.note) == ("李评", "pilot only")
    assert overridden.outcome is Outcome.OVERRIDDEN and not overridden.gate_passed
    assert passed.outcome is Outcome.PROMOTED and passed.gate_passed
    assert refused.decided_at < overridden.decided_at < passed.decided_at
    assert refused.decided_at.utcoffset().total_seconds() == 0
    # each keeps the gate result it was decided on, every check with value and rule
    assert "test_auc" in " ".join(refused.gate.failures) and not refused.gate.passed
    assert {c.name for c in refused.gate.checks} >= {"test_auc", "auc_vs_baseline"}
    assert passed.gate.failures == []
    assert len({r.run_id for r in (refused, overridden, passed)}) == 3
    # the version's tags mirror only the latest decision; the history is the record
    tags = store.client().get_model_version(CREDIT_MODEL, v).tags
    assert tags["reviewer"] == "赵核" and tags["review_run_id"] == passed.run_id
    assert review_history(store, CREDIT_MODEL, "999") == []
    assert review_history(store, "another-model") == []
    exp = store.client().get_experiment_by_name(REVIEW_EXPERIMENT)
    assert exp is not None and exp.artifact_location.startswith(store.artifact_root)
