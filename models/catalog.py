"""What a model reviewer reads before deciding: each version's headline figures, the gate as it
would decide now, the decisions already taken, and the review report logged with the run.

MLflow IO only, read through the same :class:`models.registry.Tracking` as training and
promotion, so the page and the CLI can never disagree about which version is champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import mlflow
from mlflow.exceptions import MlflowException

from features.settings import GateThresholds
from models.gate import GateDecision
from models.registry import (
    CHALLENGER,
    CHAMPION,
    PRODUCTION_MODELS,
    ReviewRecord,
    Tracking,
    gate_against,
    review_history,
)

# the figures a reviewer compares first (names as logged by models.review.review_metrics)
HEADLINE = ("test_auc", "test_gini", "test_ks", "test_calibration_ratio", "score_psi",
            "baseline_auc", "champion_auc")
REPORT = "review/review.html"
RECENT = 8  # versions listed per model besides the champion and the challenger


@dataclass(frozen=True)
class VersionCard:
    model_name: str
    version: str
    aliases: tuple[str, ...]
    run_id: str
    created_at: datetime
    figures: dict[str, float]  # the HEADLINE figures the run logged
    gate: GateDecision  # as it would decide now (against the champion in force)
    reviews: tuple[ReviewRecord, ...]  # decisions on this version, oldest first

    @property
    def role(self) -> str:
        """champion, challenger, or '' for an older version."""
        return next((a for a in (CHAMPION, CHALLENGER) if a in self.aliases), "")


@dataclass(frozen=True)
class ModelCatalog:
    model_name: str
    champion: VersionCard | None
    challenger: VersionCard | None  # None when it is unset or the champion itself
    recent: tuple[VersionCard, ...]  # newest first, champion and challenger included


class UnknownVersion(LookupError):
    """The model is not a production model or has no such version."""


def _card(tracking: Tracking, mv, aliases: tuple[str, ...], champion: str | None,
          thresholds: GateThresholds, reviews: list[ReviewRecord]) -> VersionCard:
    metrics = tracking.client().get_run(mv.run_id).data.metrics
    return VersionCard(
        mv.name, str(mv.version), aliases, mv.run_id,
        datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC),
        {k: float(metrics[k]) for k in HEADLINE if k in metrics},
        gate_against(metrics, str(mv.version), champion, thresholds),
        tuple(r for r in reviews if r.version == str(mv.version)))


def catalog(tracking: Tracking, model_name: str, thresholds: GateThresholds) -> ModelCatalog:
    """The champion, the challenger and the latest versions of one production model."""
    if model_name not in PRODUCTION_MODELS:
        raise UnknownVersion(f"{model_name} is not a production model / 非生产模型")
    client = tracking.client()
    try:  # a version search does not carry aliases; the registered model does
        aliases = dict(client.get_registered_model(model_name).aliases)
        found = client.search_model_versions(f"name='{model_name}'")
    except MlflowException:  # nothing registered yet
        aliases, found = {}, []
    named: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        named.setdefault(str(version), []).append(alias)
    found = sorted(found, key=lambda mv: int(mv.version), reverse=True)
    shown = [mv for i, mv in enumerate(found) if i < RECENT or str(mv.version) in named]
    reviews = review_history(tracking, model_name) if shown else []
    champion = str(aliases[CHAMPION]) if CHAMPION in aliases else None
    cards = [_card(tracking, mv, tuple(sorted(named.get(str(mv.version), []))), champion,
                   thresholds, reviews) for mv in shown]
    current = next((c for c in cards if CHAMPION in c.aliases), None)
    challenger = next((c for c in cards if CHALLENGER in c.aliases and c is not current), None)
    return ModelCatalog(model_name, current, challenger, tuple(cards))


def review_report(tracking: Tracking, model_name: str, version: str) -> str:
    """The review report (self-contained HTML, images inline) logged with the version's run."""
    if model_name not in PRODUCTION_MODELS or not version.isdigit():
        raise UnknownVersion(f"{model_name} v{version}")
    client = tracking.client()
    try:
        mv = client.get_model_version(model_name, version)
        uri = client.get_run(mv.run_id).info.artifact_uri
        return mlflow.artifacts.load_text(f"{uri.rstrip('/')}/{REPORT}")
    except (MlflowException, OSError) as e:
        raise UnknownVersion(f"{model_name} v{version}: no review report ({e})") from None
