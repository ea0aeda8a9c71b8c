"""The registry the service reads its champions from: MLflow, by alias, loaded by version."""

from __future__ import annotations

from features.settings import Settings
from models.loading import serving_version
from models.registry import (
    ANOMALY_MODEL,
    CHAMPION,
    CREDIT_MODEL,
    load_version,
    review_history,
    tracking_for,
)
from models.scoring import ModelRef
from service.core.champions.holder import Loaded, ModelSource


def mlflow_source(settings: Settings, alias: str = CHAMPION) -> ModelSource:
    tracking = tracking_for(settings)

    def versions() -> tuple[str | None, str | None]:
        return (serving_version(tracking, ANOMALY_MODEL, alias),
                serving_version(tracking, CREDIT_MODEL, alias))

    def load(wanted: tuple[str | None, str | None]) -> Loaded:
        anomaly_version, credit_version = wanted
        assert anomaly_version is not None
        anomaly = load_version(tracking, ANOMALY_MODEL, anomaly_version)  # pinned: cannot move
        reviews = review_history(tracking, ANOMALY_MODEL, anomaly_version)
        if credit_version is not None:
            reviews += review_history(tracking, CREDIT_MODEL, credit_version)
        return Loaded(anomaly, ModelRef(ANOMALY_MODEL, anomaly_version, alias),
                      ModelRef(CREDIT_MODEL, credit_version, alias) if credit_version else None,
                      tuple(reviews))

    return ModelSource(versions, load)
