"""The production specs against the panels they name, on the shared trained tiny market: every
column a spec reads is in its panel, and the registered model reads the spec's features."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from models.loading import load_scorer
from models.panels import with_truth_risk
from models.registry import load_version, tracking_for
from models.specs import ANOMALY, CREDIT, ModelSpec
from pipelines.training.panel import anomaly_data, credit_frame, read_entity_truth, read_tables
from tests.trained import Trained, build, copy_home, shared_folder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.fixture(scope="module")
def settings(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the trained home: reading the rules in force must not touch the shared one."""
    home = copy_home(trained.settings.home_dir, tmp_path_factory.mktemp("specs") / "home")
    return Settings(home=home)


@pytest.fixture(scope="module")
def panels(trained: Trained, settings: Settings) -> dict[str, pd.DataFrame]:
    """Each panel as training builds it, by the name a spec gives it."""
    tables = read_tables(settings, trained.source)
    credit = credit_frame(settings, tables, load_scorer(settings).stored)
    return {
        ANOMALY.panel: anomaly_data(settings, tables).frame,
        CREDIT.panel: with_truth_risk(credit, read_entity_truth(settings, trained.source)),
    }


@pytest.mark.parametrize("spec", [ANOMALY, CREDIT], ids=lambda s: s.name)
def test_every_column_a_spec_reads_is_in_the_panel_it_names(
    spec: ModelSpec, panels: dict[str, pd.DataFrame]
) -> None:
    frame = panels[spec.panel]
    assert spec.missing(frame.columns) == []
    assert set(spec.columns.truth) <= set(frame.columns)  # a synthetic market has its truth


@pytest.mark.parametrize("spec", [ANOMALY, CREDIT], ids=lambda s: s.name)
def test_the_registered_model_reads_the_specs_features(
    spec: ModelSpec, settings: Settings, tmp_path: Path
) -> None:
    tracking = tracking_for(settings)
    model = load_version(tracking, spec.name, "1")
    assert model.kind == spec.policy.kind
    run_id = tracking.client().get_model_version(spec.name, "1").run_id
    logged = json.loads(Path(tracking.client().download_artifacts(
        run_id, "features.json", str(tmp_path))).read_text())
    # a candidate the model lacks was dropped by name, with the reason on record
    assert set(model.features) <= set(spec.columns.features)
    assert set(model.features) | set(logged["dropped"]) == set(spec.columns.features)
    assert model.monotone.items() <= spec.policy.monotone.items()
