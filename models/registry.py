"""Thin MLflow IO: log a training run, register it as challenger, promote after review.

Everything here talks to a tracking store given explicitly (URI and artifact root), never to
whatever the environment happens to point at. The decision whether a model may become
champion is :func:`models.gate.review_gate`; this module only applies and records it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.settings import GateThresholds, Settings
from models.fit import FitResult
from models.gate import CURRENT_CHAMPION_KEY, GateDecision, review_gate
from models.review import Review
from models.risk_model import RiskModel, load_risk_model

CREDIT_MODEL = "techcredit-credit"
ANOMALY_MODEL = "techcredit-anomaly"
PRODUCTION_MODELS = (CREDIT_MODEL, ANOMALY_MODEL)
CHALLENGER = "challenger"
CHAMPION = "champion"
EXPERIMENT = "techcredit"
EXTERNAL_EXPERIMENT = "techcredit-external"  # + "/<model name>": one experiment per table
REVIEW_EXPERIMENT = "techcredit-reviews"
MAX_NOTE = 5000  # an MLflow tag holds 8,000 characters; the note must fit whole
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


def store_for(settings: Settings, experiment: str = EXPERIMENT) -> Store:
    return Store(settings.tracking_uri, settings.mlflow_artifact_root, experiment)


def external_model_name(features: Path, name: str | None = None) -> str:
    """The registered name for a model trained on any table: never a production name.

    Default ``external-<file stem>``, slugified, so that benchmarking someone's CSV can never
    create a version (or a champion) that the service would load.
    """
    if name is None:
        slug = re.sub(r"[^a-z0-9]+", "-", features.stem.lower()).strip("-") or "table"
        name = f"external-{slug}"
    if not name.strip():
        raise ValueError("the model name is empty")
    if name.strip().lower() in PRODUCTION_MODELS:
        raise ValueError(
            f"{name!r} is a production model name; tables given with --features are registered "
            f"under another name (default external-<file name>) / 外部数据不得使用生产模型名"
        )
    return name.strip()


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


def load_version(store: Store, model_name: str, version: str) -> RiskModel:
    """One registered version (``models:/NAME/VERSION``): pinned, so it cannot move mid-use."""
    store.client()  # points MLflow at this store
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name}/{version}")
    return pyfunc.unwrap_python_model().model


class GateRefused(RuntimeError):
    def __init__(self, model_name: str, version: str, decision: GateDecision) -> None:
        self.decision = decision
        super().__init__(
            f"{model_name} v{version} fails the review gate: "
            + "; ".join(decision.failures)
            + " (use --override to record an exception)"
        )


class Outcome(StrEnum):
    REFUSED = "refused"
    PROMOTED = "promoted"
    OVERRIDDEN = "overridden"  # promoted although the gate failed


@dataclass(frozen=True)
class ReviewRecord:
    """One review decision as stored: never changed by a later decision on the same version."""

    model_name: str
    version: str
    reviewer: str
    decided_at: datetime  # UTC
    note: str
    outcome: Outcome
    gate_passed: bool
    gate: GateDecision  # as decided then: every check with its value, rule and outcome
    run_id: str  # the decision's own run in the reviews experiment


def record_decision(
    store: Store,
    model_name: str,
    version: str,
    *,
    reviewer: str,
    note: str,
    outcome: Outcome,
    decision: GateDecision,
) -> ReviewRecord:
    """Append one decision: a new run in ``techcredit-reviews`` (tags + ``gate.json``)."""
    client = store.client()
    reviews = replace(store, experiment=REVIEW_EXPERIMENT)
    now = datetime.now(UTC)
    run = client.create_run(
        reviews.experiment_id(),
        start_time=int(now.timestamp() * 1000),
        tags={
            "model_name": model_name,
            "model_version": str(version),
            "reviewer": reviewer,
            "note": note,
            "decided_at": now.isoformat(timespec="microseconds"),
            "outcome": outcome.value,
            "gate_passed": str(decision.passed).lower(),
        },
        run_name=f"{model_name} v{version} {outcome.value}",
    )
    client.log_dict(run.info.run_id, decision.as_dict(), "gate.json")
    client.set_terminated(run.info.run_id)
    return ReviewRecord(model_name, str(version), reviewer, now, note, outcome, decision.passed,
                        decision, run.info.run_id)


def review_history(store: Store, model_name: str, version: str | None = None) -> list[ReviewRecord]:
    """Every decision on the model (or one version), oldest first.

    Decisions are few (people take them), so the experiment is read whole and filtered here,
    which spares quoting model names into MLflow's filter language.
    """
    client = store.client()
    found = client.get_experiment_by_name(REVIEW_EXPERIMENT)
    if found is None:
        return []
    runs, token = [], None
    while True:
        page = client.search_runs([found.experiment_id], page_token=token)
        runs += [
            r
            for r in page
            if r.data.tags.get("model_name") == model_name
            and (version is None or r.data.tags.get("model_version") == str(version))
        ]
        token = page.token
        if not token:
            break
    records = []
    for run in runs:
        tags = run.data.tags
        gate = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/gate.json")
        records.append(
            ReviewRecord(
                tags["model_name"],
                tags["model_version"],
                tags["reviewer"],
                datetime.fromisoformat(tags["decided_at"]),
                tags["note"],
                Outcome(tags["outcome"]),
                tags["gate_passed"] == "true",
                GateDecision.from_dict(gate),
                run.info.run_id,
            )
        )
    return sorted(records, key=lambda r: r.decided_at)


def gate_against(metrics: Mapping[str, float], version: str, champion: str | None,
                 thresholds: GateThresholds) -> GateDecision:
    """The gate on a version's logged metrics against ``champion``, the version in force
    (None: there is none; the version itself: it is compared with nothing)."""
    judged = dict(metrics)
    if champion is not None and champion != str(version):
        judged[CURRENT_CHAMPION_KEY] = float(champion)
    return review_gate(judged, thresholds)


def gate_now(store: Store, model_name: str, version: str, thresholds: GateThresholds
             ) -> GateDecision:
    """The gate on this version as it would decide now, against the champion in force: what a
    reviewer sees before deciding is what :func:`promote` will decide on."""
    client = store.client()
    mv = client.get_model_version(model_name, str(version))
    return gate_against(client.get_run(mv.run_id).data.metrics, str(version),
                        alias_version(store, model_name, CHAMPION), thresholds)


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

    Refusals are recorded too. Each decision is appended to the review history
    (:func:`review_history`); the version's tags only mirror the latest one for convenience.
    The gate sees the champion in force now, so a run compared with a champion that has since
    been replaced (or with none) fails ``champion_compared``.
    """
    if not reviewer.strip() or not note.strip():
        raise ValueError("a promotion needs the reviewer's name and a note")
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note has {len(note)} characters; at most {MAX_NOTE}")
    client = store.client()
    decision = gate_now(store, model_name, version, thresholds)
    outcome = Outcome.PROMOTED if decision.passed else Outcome.REFUSED
    if override and not decision.passed:
        outcome = Outcome.OVERRIDDEN
    record = record_decision(
        store, model_name, version, reviewer=reviewer, note=note, outcome=outcome, decision=decision
    )
    tags = {
        "reviewer": reviewer,
        "review_note": note,
        "reviewed_at": record.decided_at.isoformat(timespec="seconds"),
        "gate_passed": str(decision.passed).lower(),
        "gate_failures": "; ".join(decision.failures)[:MAX_NOTE] or "none",
        "override": str(outcome is Outcome.OVERRIDDEN).lower(),
        "review_outcome": "refused" if outcome is Outcome.REFUSED else "promoted",
        "review_run_id": record.run_id,
    }
    for k, v in tags.items():
        client.set_model_version_tag(model_name, str(version), k, v)
    if outcome is Outcome.REFUSED:
        raise GateRefused(model_name, str(version), decision)
    client.set_registered_model_alias(model_name, CHAMPION, str(version))
    return decision
