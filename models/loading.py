"""Loading registered models for scoring: a version by alias or number, and the artifacts
training stored beside it (the credit version's inputs, the anomaly run's contract scores).

Shared by the command line and the service, so both answer with the same versions; every
problem is a one-line :class:`~models.scoring.ScoringError`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException

from features.settings import Settings
from models.registry import (
    ANOMALY_MODEL,
    CHAMPION,
    CREDIT_MODEL,
    Tracking,
    alias_version,
    load_version,
    tracking_for,
)
from models.risk_model import RiskModel
from models.scoring import (
    CONTRACT_SCORES,
    CREDIT_INPUTS,
    CreditInputs,
    EntityScorer,
    ModelRef,
    ScoringError,
)


def resolve(tracking: Tracking, name: str, alias: str | None, version: str | None) -> ModelRef:
    """The version behind an alias (or a version asked for by number), checked to exist."""
    if version is not None:
        try:
            tracking.client().get_model_version(name, version)
        except MlflowException:
            raise ScoringError(f"{name} has no version {version!r}") from None
        return ModelRef(name, str(version), None)
    alias = alias or CHAMPION
    found = alias_version(tracking, name, alias)
    if found is None:
        raise ScoringError(
            f"{name} has no '{alias}' version yet: a reviewer promotes one with "
            f"`techcredit promote {name} VERSION` (or run `techcredit demo`) / 尚无{alias}模型")
    return ModelRef(name, found, alias)


def _artifact(tracking: Tracking, ref: ModelRef, path: str, tmp: str) -> Path:
    """One artifact of the run behind a registered version, downloaded into ``tmp``."""
    client = tracking.client()
    run_id = client.get_model_version(ref.name, ref.version).run_id
    try:
        return Path(client.download_artifacts(run_id, path, tmp))
    except (MlflowException, OSError):
        raise ScoringError(f"{ref.name} v{ref.version} has no {path}: it was trained before "
                           "scoring inputs were stored; retrain with `techcredit train`") from None


def load_scorer(settings: Settings, alias: str | None = CHAMPION,
                version: str | None = None) -> EntityScorer:
    """The credit version, and the anomaly version and contract scores it was trained with."""
    tracking = tracking_for(settings)
    ref = resolve(tracking, CREDIT_MODEL, alias, version)
    with tempfile.TemporaryDirectory() as tmp:
        raw = json.loads(_artifact(tracking, ref, CREDIT_INPUTS, tmp).read_text("utf-8"))
        inputs = CreditInputs.from_dict(raw)
        anomaly_ref = ModelRef(inputs.anomaly_model, inputs.anomaly_version, None)
        stored = pd.read_parquet(_artifact(tracking, anomaly_ref, CONTRACT_SCORES, tmp))
    credit = load_version(tracking, ref.name, ref.version)
    anomaly = load_version(tracking, anomaly_ref.name, anomaly_ref.version)
    return EntityScorer(credit, ref, anomaly, anomaly_ref, stored)


def load_anomaly(settings: Settings, alias: str | None = CHAMPION,
                 version: str | None = None) -> tuple[RiskModel, ModelRef]:
    tracking = tracking_for(settings)
    ref = resolve(tracking, ANOMALY_MODEL, alias, version)
    return load_version(tracking, ref.name, ref.version), ref


class RegistryUnavailable(RuntimeError):
    """The model registry could not be asked (server down, store unreadable); one line."""


def serving_version(tracking: Tracking, name: str, alias: str = CHAMPION) -> str | None:
    """The version behind ``alias``; None only when the alias is unset. Unlike
    :func:`models.registry.alias_version`, an unreachable registry is an error, not None, so
    a server that keeps the last good model can tell "no champion" from "cannot ask"."""
    try:
        return str(tracking.client().get_model_version_by_alias(name, alias).version)
    except MlflowException as e:
        if e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise RegistryUnavailable(f"model registry {tracking.tracking_uri}: "
                                  f"{str(e).splitlines()[0]}") from None
    except Exception as e:  # requests / SQLAlchemy errors of an unreachable store
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RegistryUnavailable(f"model registry {tracking.tracking_uri}: {first}") from None
