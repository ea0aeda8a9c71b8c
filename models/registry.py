"""Thin MLflow IO: log a training run, register it as challenger, promote after review.

Everything here talks to a tracking store given explicitly (URI and artifact root), never to
whatever the environment happens to point at. The decision whether a model may become
champion is :func:`models.gate.review_gate`; this module only applies and records it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.settings import Settings
from models.fit import FitResult
from models.gate import GateDecision, GateThresholds, review_gate
from models.review import Review
from models.risk_model import RiskModel, load_risk_model

CREDIT_MODEL = "techcredit-credit"
ANOMALY_MODEL = "techcredit-anomaly"
CHALLENGER = "challenger"
CHAMPION = "champion"
EXPERIMENT = "techcredit"
BUNDLE = "bundle"
REPRODUCE_ROWS = 200  # held-out rows logged with their predictions, to prove reloads agree
PIP_REQUIREMENTS = [
    f"lightgbm=={lgb.__version__}",
    f"numpy=={np.__version__}",
    f"pandas=={pd.__version__}",
    f"scikit-learn=={sklearn.__version__}",
    f"mlflow=={mlflow.__version__}",
]


class RiskPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow wrapper: loads the saved :class:`RiskModel` folder, returns PD, points, grade."""

    def load_context(self, context) -> None:
        self.model = load_risk_model(Path(context.artifacts[BUNDLE]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        s = self.model.score(model_input, top=3)
        return s.frame()


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    artifact_root: str
    experiment: str = EXPERIMENT

    def client(self) -> MlflowClient:
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return MlflowClient(self.tracking_uri, self.tracking_uri)

    def experiment_id(self) -> str:
        client = self.client()
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = f"{self.artifact_root.rstrip('/')}/{self.experiment}"
        return client.create_experiment(self.experiment, artifact_location=location)


def store_for(settings: Settings) -> Store:
    return Store(settings.tracking_uri, settings.mlflow_artifact_root)


def gate_thresholds(settings: Settings) -> GateThresholds:
    return GateThresholds(
        settings.gate_min_auc,
        settings.gate_max_psi,
        settings.gate_min_calibration_ratio,
        settings.gate_max_calibration_ratio,
    )


@dataclass(frozen=True)
class Logged:
    run_id: str
    model_name: str
    version: str
    model_uri: str


def _flat(prefix: str, data: Mapping) -> dict[str, str]:
    out = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flat(f"{key}.", v))
        else:
            out[key] = str(v)[:500]
    return out


def log_training(
    store: Store,
    fit: FitResult,
    review: Review,
    html: str,
    images: Mapping[str, bytes],
    *,
    model_name: str,
    data: Mapping[str, object],
    run_name: str | None = None,
) -> Logged:
    """One MLflow run: params, metrics, features, data window, review, model; then register.

    The new version gets the alias ``challenger``; ``champion`` only moves through
    :func:`promote`.
    """
    client = store.client()
    with mlflow.start_run(experiment_id=store.experiment_id(), run_name=run_name) as run:
        mlflow.log_params(
            _flat(
                "",
                {
                    "model": fit.model.kind,
                    "method": fit.method,
                    "sampling": fit.sampling,
                    "best_iteration": fit.best_iteration,
                    "n_features": len(fit.model.features),
                    "lgbm": fit.params,
                    "window": fit.windows,
                    "scale": review.scale,
                },
            )
        )
        mlflow.log_metrics({k: float(v) for k, v in review.metrics.items()})
        mlflow.log_dict(
            {
                "features": list(fit.model.features),
                "monotone": dict(fit.model.monotone),
                "dropped": dict(fit.columns.dropped),
            },
            "features.json",
        )
        mlflow.log_dict(
            {**{k: str(v) for k, v in data.items()}, "windows": fit.windows}, "data.json"
        )
        mlflow.log_dict(review.as_dict(), "review/review.json")
        mlflow.log_text(html, "review/review.html")
        with tempfile.TemporaryDirectory() as tmp:
            for name, png in images.items():
                (Path(tmp) / name).write_bytes(png)
            mlflow.log_artifacts(tmp, "review")
            sample = fit.held_out.head(REPRODUCE_ROWS).drop(columns=["y"])
            sample.to_parquet(Path(tmp) / "reproduce.parquet", index=False)
            mlflow.log_artifact(str(Path(tmp) / "reproduce.parquet"))
            bundle = fit.model.save(Path(tmp) / BUNDLE)
            info = mlflow.pyfunc.log_model(
                name=fit.model.kind,
                python_model=RiskPyfunc(),
                artifacts={BUNDLE: str(bundle)},
                pip_requirements=PIP_REQUIREMENTS,
            )
        mv = mlflow.register_model(
            info.model_uri, model_name, tags={"run_id": run.info.run_id, "method": fit.method}
        )
        client.set_registered_model_alias(model_name, CHALLENGER, mv.version)
    return Logged(run.info.run_id, model_name, str(mv.version), info.model_uri)


def alias_version(store: Store, model_name: str, alias: str) -> str | None:
    try:
        return str(store.client().get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def load_alias(store: Store, model_name: str, alias: str = CHAMPION) -> RiskModel | None:
    """The scoring object behind ``models:/NAME@ALIAS``, or None when the alias is unset."""
    if alias_version(store, model_name, alias) is None:
        return None
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")
    return pyfunc.unwrap_python_model().model


class GateRefused(RuntimeError):
    def __init__(self, model_name: str, version: str, decision: GateDecision) -> None:
        self.decision = decision
        super().__init__(
            f"{model_name} v{version} fails the review gate: "
            + "; ".join(decision.failures)
            + " (use --override to record an exception)"
        )


def promote(
    store: Store,
    model_name: str,
    version: str,
    *,
    reviewer: str,
    note: str,
    thresholds: GateThresholds,
    override: bool = False,
) -> GateDecision:
    """Move ``champion`` to this version if the gate passes or the reviewer overrides it.

    Either way the review (reviewer, note, time, gate outcome) is stored as tags of the
    version, so a refused promotion is on record too.
    """
    if not reviewer.strip() or not note.strip():
        raise ValueError("a promotion needs the reviewer's name and a note")
    client = store.client()
    mv = client.get_model_version(model_name, str(version))
    metrics = client.get_run(mv.run_id).data.metrics
    decision = review_gate(metrics, thresholds)
    promoted = decision.passed or override
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    tags = {
        "reviewer": reviewer,
        "review_note": note,
        "reviewed_at": stamp,
        "gate_passed": str(decision.passed).lower(),
        "gate_failures": "; ".join(decision.failures) or "none",
        "override": str(override and not decision.passed).lower(),
        "review_outcome": "promoted" if promoted else "refused",
    }
    for k, v in tags.items():
        client.set_model_version_tag(model_name, str(version), k, v)
    if not promoted:
        raise GateRefused(model_name, str(version), decision)
    client.set_registered_model_alias(model_name, CHAMPION, str(version))
    return decision
