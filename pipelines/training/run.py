"""One training run: fit, review, log and register a model version as challenger.

Every model trains through :func:`train`, told what the model is by its spec
(:mod:`models.specs`); the fitting, the review and the gate are pure functions in ``models``,
and the MLflow IO is :mod:`models.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.settings import Settings
from models.champion import Comparison
from models.fit import FitResult, fit_risk_model
from models.gate import GateDecision
from models.metrics import Discrimination
from models.registry import (
    CHAMPION,
    alias_version,
    load_alias,
    log_training,
    tracking_for,
)
from models.review import build_review
from models.review_render import plots, render_html
from models.review_sections import Section
from models.rules.kinds import ENTITY
from models.rules.reviews import in_force
from models.rules.warn_review import warning_section
from models.scaling import GradeCuts, PointsScale
from models.specs import ModelSpec
from models.table import coerce_target


@dataclass(frozen=True)
class TrainSummary:
    """What the CLI prints: the model next to its baseline, and where the run went."""

    model_name: str
    version: str
    run_id: str
    method: str
    windows: Mapping[str, tuple[str, str]]
    metrics: Mapping[str, float]
    comparison: Mapping[str, Discrimination]
    gate: GateDecision
    served: Mapping[str, str]  # segment level ("all" first) → the family that serves it


def read_table(path: Path) -> pd.DataFrame:
    """CSV (UTF-8 or GB18030) or Parquet, chosen by suffix."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="gb18030")


def external_table(path: Path, target: str, time: str | None, bad: str | None
                   ) -> pd.DataFrame:
    """A user's table with its target as 0/1, checked before any flow starts.

    Raises ValueError naming the column and what is wrong (missing column, text target without
    ``bad``, missing values), so the command line can answer in one line.
    """
    df = read_table(path)
    for role, column in (("target", target), ("time", time)):
        if column is not None and column not in df.columns:
            raise ValueError(f"{role} column {column!r} is not in {path.name}; columns: "
                             f"{list(df.columns)[:20]}")
    return df.assign(**{target: coerce_target(df[target], bad)})


@dataclass(frozen=True)
class TrainingData:
    """A training table and what the run records about it.

    ``about`` is logged with the run (``data.json``) beside its rows, target, time and gap:
    the panel and its as-of window, or the file a table came from. ``rules`` names the rule
    set that gave the table's rule column, for a review that ranks by it.
    """

    frame: pd.DataFrame
    about: Mapping[str, object] = field(default_factory=dict)
    rules: str = ""


def train(settings: Settings, data: TrainingData, spec: ModelSpec
          ) -> tuple[TrainSummary, FitResult]:
    """Fit ``spec`` on ``data``, compare with baseline and champion, log the run and register
    the challenger."""
    missing = spec.missing(data.frame.columns)
    if missing:
        raise KeyError(f"{spec.name}: columns missing from the table: {missing}")
    tracking = tracking_for(settings, spec.experiment)
    fit = fit_risk_model(
        data.frame,
        spec.columns,
        spec.policy,
        spec.selection,
        seed=settings.seed % 2**31,
        scale=PointsScale(**settings.points.model_dump()),
        cuts=GradeCuts(**settings.grades.model_dump()),
        compare=Comparison(
            cluster=spec.cluster.resampled if spec.cluster is not None else None,
            within=settings.gate.segment if settings.gate.segment in spec.columns.segments
            else None,
            ceiling=spec.columns.ceiling,
        ),
    )
    sections: list[Section] = []
    extra = None
    if spec.review is not None:
        k = settings.offices.review_capacity
        sections = spec.review.sections(fit.held_out, k, data.rules)
        extra = spec.review.metrics(fit.held_out, k, sections)
    if spec.policy.kind == "credit":  # the warnings its grades would cause, tier by tier
        sections, extra = warning_review(settings, fit)
    review = build_review(
        fit,
        segments=spec.columns.segments,
        champion=load_alias(tracking, spec.name, CHAMPION),
        champion_version=alias_version(tracking, spec.name, CHAMPION),
        extra=extra,
        thresholds=settings.gate,
        cluster=spec.cluster.resampled if spec.cluster is not None else None,
        sections=sections,
    )
    images = plots(review, fit.held_out)
    logged = log_training(
        tracking,
        fit,
        review,
        render_html(review, images),
        images,
        model_name=spec.name,
        data={
            "rows": len(data.frame),
            "target": spec.columns.label,
            "time": spec.columns.time or "none",
            "gap_months": spec.policy.gap_months,
            **data.about,
        },
    )
    summary = TrainSummary(
        spec.name,
        logged.version,
        logged.run_id,
        fit.method,
        fit.windows,
        review.metrics,
        review.comparison,
        review.gate,
        {v.level: v.family for v in (fit.choice.overall, *fit.choice.levels)},
    )
    return summary, fit


def format_summary(s: TrainSummary) -> str:
    """Side-by-side AUC / Gini / KS / Brier of LightGBM, the baseline and the champion."""
    lines = [
        (
            f"{s.model_name} v{s.version} (run {s.run_id}), validation {s.method}, "
            f"windows {dict(s.windows)}"
        ),
        f"{'model':<26}{'AUC':>8}{'Gini':>8}{'KS':>8}{'Brier':>9}{'E/O':>7}{'n':>9}",
    ]
    for name, m in s.comparison.items():
        lines.append(
            f"{name:<26}{m.auc:>8.4f}{m.gini:>8.4f}{m.ks:>8.4f}"
            f"{m.brier:>9.5f}{m.calibration_ratio:>7.2f}{m.n:>9,}"
        )
    lines.append("serves 服务模型: " + ", ".join(f"{k} → {v}" for k, v in s.served.items()))
    if s.metrics.get("score_psi") is not None:
        lines.append(f"score PSI train→test: {s.metrics['score_psi']:.4f}")
    lines.append(
        f"review gate: {'passed' if s.gate.passed else 'NOT passed'}; alias challenger set"
    )
    return "\n".join(lines)


def warning_review(settings: Settings, fit: FitResult) -> tuple[list[Section], dict[str, float]]:
    """The entity warning rules in force applied to a credit model's test period."""
    rules = in_force(settings, ENTITY)
    source = "approved" if rules.approved else f"{rules.rules.source}, not yet approved"
    return warning_section(rules.rules, fit.held_out, fit.model, source)
