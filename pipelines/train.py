"""The training flows (Prefect): any credit table, or both techcredit models on the panel.

``techcredit train --features FILE --target COLUMN [--time COLUMN]`` trains the credit path
on any table so reviewers can benchmark it on other credit data; without ``--features`` it
trains both techcredit models on the point-in-time panel built by the feature layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prefect import flow

from features.settings import get_settings
from models.registry import CREDIT_MODEL
from pipelines.train_panel import train_panel
from pipelines.training import TrainSummary, read_table, train_and_log


@flow(name="techcredit-train")
def train_table_flow(
    features: Path,
    target: str,
    time: str | None = None,
    model_name: str = CREDIT_MODEL,
    segments: Sequence[str] = (),
) -> TrainSummary:
    """Any feature table with a binary target: LightGBM against the scorecard baseline."""
    summary, _ = train_and_log(
        get_settings(),
        read_table(Path(features)),
        target=target,
        time=time,
        model_name=model_name,
        segments=segments,
        data={"source": str(features)},
    )
    return summary


@flow(name="techcredit-train-panel")
def train_panel_flow(source: Path | None = None) -> list[TrainSummary]:
    """Both techcredit models on the month-end point-in-time panel.

    ``source`` is the folder of standard Parquet tables the panel was built from (contract
    offices, entity provinces); default: the curated store.
    """
    return train_panel(get_settings(), source)
