"""One training run from a spec: the model, the logged features and the data record are the
spec's, and the run goes to the spec's name and experiment."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from features.settings import Settings
from models.registry import CHALLENGER, alias_version, tracking_for
from models.specs import table_spec
from pipelines.training.run import TrainingData, train
from tests.known_signal import credit_table


def test_train_registers_a_model_reading_exactly_the_specs_features(tmp_path: Path) -> None:
    table = credit_table(3000, seed=4)
    spec = table_spec(tmp_path / "bank.csv", table, "y", "as_of", ["region"])
    declared = ("past_conduct_records", "complaints", "trained_share", "region")
    spec = replace(spec, columns=replace(spec.columns, features=declared))
    settings = Settings(home=tmp_path / "home")
    summary, fit = train(settings, TrainingData(table, {"source": spec.panel}), spec)
    assert fit.model.features == declared and fit.model.kind == spec.policy.kind
    assert summary.model_name == spec.name == "external-bank"
    tracking = tracking_for(settings, spec.experiment)
    assert alias_version(tracking, spec.name, CHALLENGER) == summary.version
    client = tracking.client()
    run = client.get_run(summary.run_id)
    assert client.get_experiment(run.info.experiment_id).name == spec.experiment
    logged = json.loads(Path(client.download_artifacts(summary.run_id, "features.json",
                                                       str(tmp_path))).read_text())
    assert tuple(logged["features"]) == declared
    data = json.loads(Path(client.download_artifacts(summary.run_id, "data.json",
                                                     str(tmp_path))).read_text())
    assert (data["rows"], data["target"], data["time"]) == (str(len(table)), "y", "as_of")
    assert data["source"] == str(tmp_path / "bank.csv")


def test_train_names_the_columns_a_table_lacks(tmp_path: Path) -> None:
    table = credit_table(500, seed=4)
    spec = table_spec(tmp_path / "bank.csv", table, "y", "as_of")
    with pytest.raises(KeyError, match="complaints"):
        train(Settings(home=tmp_path / "home"), TrainingData(table.drop(columns="complaints")),
              spec)
