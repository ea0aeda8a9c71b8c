"""The training flows (Prefect): any credit table, or both techcredit models on the panel.

``techcredit train --features FILE --target COLUMN [--time COLUMN] [--name NAME]`` trains the
credit path on any table so reviewers can benchmark it on other credit data — under its own
model name and experiment, never the production ones; without ``--features`` it trains both
techcredit models on the point-in-time panel built by the feature layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prefect import flow

from features.settings import get_settings
from models.specs import table_spec
from pipelines.training.panel import train_panel
from pipelines.training.run import TrainingData, TrainSummary, external_table, train


@flow(name="techcredit-train")
def train_table_flow(
    features: Path,
    target: str,
    time: str | None = None,
    model_name: str | None = None,
    segments: Sequence[str] = (),
    bad: str | None = None,
) -> TrainSummary:
    """Any feature table with a binary target: LightGBM against the scorecard baseline.

    Registered as ``model_name`` (default ``external-<file stem>``) in the experiment
    ``techcredit-external/<name>``; a production model name is refused before anything trains.
    """
    table = external_table(Path(features), target, time, bad)
    spec = table_spec(Path(features), table, target, time, segments, model_name)
    summary, _ = train(get_settings(), TrainingData(table, {"source": str(features)}), spec)
    return summary


@flow(name="techcredit-train-panel")
def train_panel_flow(source: Path | None = None) -> list[TrainSummary]:
    """Both techcredit models on the month-end point-in-time panel.

    ``source`` is the folder of standard Parquet tables the panel was built from (contract
    offices, entity provinces); default: the curated store.
    """
    return train_panel(get_settings(), source)
