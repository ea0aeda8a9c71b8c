"""The training flow: fit, review, log and register (thin wiring of ``models``).

``techcredit train --features FILE --target COLUMN [--time COLUMN]`` trains the credit path
on any table so reviewers can benchmark it on other credit data; without ``--features`` it
trains both techcredit models on the point-in-time panel built by the feature layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import flow

from features.settings import Settings, get_settings
from models.fit import FitResult, fit_risk_model
from models.reasons import Descriptions
from models.registry import (
    CHAMPION,
    CREDIT_MODEL,
    alias_version,
    gate_thresholds,
    load_alias,
    log_training,
    store_for,
)
from models.review import build_review, plots, render_html
from models.scaling import GradeCuts, PointsScale


@dataclass(frozen=True)
class TrainSummary:
    """What the CLI prints: the model next to its baseline, and where the run went."""

    model_name: str
    version: str
    run_id: str
    method: str
    windows: Mapping[str, tuple[str, str]]
    metrics: Mapping[str, float]
    comparison: Mapping[str, Mapping[str, float]]
    gate_passed: bool


def read_table(path: Path) -> pd.DataFrame:
    """CSV (UTF-8 or GB18030) or Parquet, chosen by suffix."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="gb18030")


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
    max_train_rows: int | None = None,
    extra_metrics: Callable[[FitResult], Mapping[str, float]] | None = None,
    data: Mapping[str, object] | None = None,
) -> tuple[TrainSummary, FitResult]:
    """Fit, compare with baseline and champion, log the run and register the challenger."""
    store = store_for(settings)
    fit = fit_risk_model(
        df,
        target,
        time,
        kind=kind,
        monotone=monotone,
        descriptions=descriptions,
        exclude=exclude,
        keep=segments,
        max_train_rows=max_train_rows,
        seed=settings.seed % 2**31,
        scale=PointsScale(
            settings.points_base_score, settings.points_base_odds, settings.points_pdo
        ),
        cuts=GradeCuts(settings.grade_a_min, settings.grade_b_min, settings.grade_c_min),
    )
    thresholds = gate_thresholds(settings)
    champion = load_alias(store, model_name, CHAMPION)
    review = build_review(
        fit,
        segments=segments,
        champion=champion,
        champion_version=alias_version(store, model_name, CHAMPION),
        extra=extra_metrics(fit) if extra_metrics else None,
        thresholds=thresholds,
    )
    images = plots(review, fit.held_out)
    logged = log_training(
        store,
        fit,
        review,
        render_html(review, images),
        images,
        model_name=model_name,
        data={"rows": len(df), "target": target, "time": time or "none", **(data or {})},
    )
    return TrainSummary(
        model_name,
        logged.version,
        logged.run_id,
        fit.method,
        fit.windows,
        review["metrics"],
        review["comparison"],
        review["gate"]["passed"],
    ), fit


@flow(name="techcredit-train")
def train_table_flow(
    features: Path,
    target: str,
    time: str | None = None,
    model_name: str = CREDIT_MODEL,
    segments: Sequence[str] = (),
) -> TrainSummary:
    """Any feature table with a binary target: LightGBM against the scorecard baseline."""
    settings = get_settings()
    df = read_table(Path(features))
    summary, _ = train_and_log(
        settings,
        df,
        target=target,
        time=time,
        model_name=model_name,
        segments=segments,
        data={"source": str(features)},
    )
    return summary


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
            f"{name:<26}{m['auc']:>8.4f}{m['gini']:>8.4f}{m['ks']:>8.4f}"
            f"{m['brier']:>9.5f}{m['calibration_ratio']:>7.2f}{m['n']:>9,}"
        )
    if s.metrics.get("score_psi") is not None:
        lines.append(f"score PSI train→test: {s.metrics['score_psi']:.4f}")
    lines.append(
        f"review gate: {'passed' if s.gate_passed else 'NOT passed'}; alias challenger set"
    )
    return "\n".join(lines)


@flow(name="techcredit-train-panel")
def train_panel_flow(source: Path | None = None) -> list[TrainSummary]:
    """Both techcredit models on the month-end point-in-time panel (see pipelines.train_panel).

    ``source`` is the folder of standard Parquet tables the panel was built from (contract
    offices, entity provinces); default: the curated store.
    """
    from pipelines.train_panel import train_panel

    return train_panel(get_settings(), source)
