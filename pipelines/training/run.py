"""One training run: fit, review, log and register a model version as challenger.

Both flows in :mod:`pipelines.training.flows` call :func:`train_and_log`; the fitting, the review
and the gate are pure functions in ``models``, and the MLflow IO is :mod:`models.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.settings import Settings
from models.fit import FitResult, fit_risk_model
from models.gate import GateDecision
from models.metrics import Discrimination
from models.reasons import Descriptions
from models.registry import (
    CHAMPION,
    EXPERIMENT,
    alias_version,
    load_alias,
    log_training,
    store_for,
)
from models.review import build_review
from models.review_render import plots, render_html
from models.review_sections import Section
from models.scaling import GradeCuts, PointsScale
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


def train_and_log(
    settings: Settings,
    df: pd.DataFrame,
    *,
    target: str,
    time: str | None,
    model_name: str,
    kind: str = "credit",
    monotone: Mapping[str, int] | None = None,
    descriptions: Descriptions | None = None,
    exclude: Sequence[str] = (),
    segments: Sequence[str] = (),
    keep: Sequence[str] = (),
    max_train_rows: int | None = None,
    extra_metrics: Callable[[FitResult], Mapping[str, float]] | None = None,
    data: Mapping[str, object] | None = None,
    experiment: str = EXPERIMENT,
    gap_months: int = 0,
    params: Mapping | None = None,
    select_features: bool = False,
    select_within: str | None = None,
    cluster: str | None = None,
    ceiling: str | None = None,
    sections: Callable[[FitResult], Sequence[Section]] | None = None,
) -> tuple[TrainSummary, FitResult]:
    """Fit, compare with baseline and champion, log the run and register the challenger.

    ``experiment`` keeps runs on other tables out of the production models' experiment.
    """
    store = store_for(settings, experiment)
    fit = fit_risk_model(
        df,
        target,
        time,
        kind=kind,
        monotone=monotone,
        descriptions=descriptions,
        exclude=exclude,
        keep=[*segments, *keep],
        max_train_rows=max_train_rows,
        seed=settings.seed % 2**31,
        gap_months=gap_months,
        params=params,
        select_features=select_features,
        select_within=select_within,
        scale=PointsScale(**settings.points.model_dump()),
        cuts=GradeCuts(**settings.grades.model_dump()),
    )
    review = build_review(
        fit,
        segments=segments,
        champion=load_alias(store, model_name, CHAMPION),
        champion_version=alias_version(store, model_name, CHAMPION),
        extra=extra_metrics(fit) if extra_metrics else None,
        thresholds=settings.gate,
        cluster=cluster,
        ceiling=ceiling,
        sections=sections(fit) if sections else (),
    )
    images = plots(review, fit.held_out)
    logged = log_training(
        store,
        fit,
        review,
        render_html(review, images),
        images,
        model_name=model_name,
        data={
            "rows": len(df),
            "target": target,
            "time": time or "none",
            "gap_months": gap_months,
            **(data or {}),
        },
    )
    summary = TrainSummary(
        model_name,
        logged.version,
        logged.run_id,
        fit.method,
        fit.windows,
        review.metrics,
        review.comparison,
        review.gate,
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
    if s.metrics.get("score_psi") is not None:
        lines.append(f"score PSI train→test: {s.metrics['score_psi']:.4f}")
    lines.append(
        f"review gate: {'passed' if s.gate.passed else 'NOT passed'}; alias challenger set"
    )
    return "\n".join(lines)
