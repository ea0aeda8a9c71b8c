"""The model review report: the figures a credit-model validator signs off.

A :class:`Review` is the source of truth; the JSON logged to MLflow, the HTML page and the
command line's summary are renderings of it (:meth:`Review.as_dict`,
:mod:`models.review_render`). Contents: discrimination (AUC, Gini, KS), accuracy (Brier,
calibration table and expected/observed ratio), the score distribution by grade, stability
(PSI of the score and of the top features between the training and test periods),
performance by segment, the SHAP summary, the comparison with the scorecard baseline and the
current champion, and the gate's decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.settings import GateThresholds
from models.fit import FitResult
from models.gate import (
    CHAMPION_AUC_METRIC,
    CHAMPION_VERSION_METRIC,
    CURRENT_CHAMPION_KEY,
    GRADES,
    KFOLD_METRIC,
    GateDecision,
    grade_metric,
    review_gate,
    segment_metric,
)
from models.metrics import (
    Discrimination,
    auc,
    calibration_table,
    discrimination,
    ks,
    psi,
    psi_categorical,
)
from models.reasons import describe, shap_summary
from models.review_sections import (
    Section,
    choice_section,
    evidence_section,
    grade_stability,
    importance_section,
    section_records,
    selection_section,
)
from models.risk_model import RiskModel

SHAP_SAMPLE = 5000
TOP_FEATURES = 10
SERVED = "served"  # the model as it serves: each row by the family the evidence chose
LIGHTGBM = "lightgbm"
BASELINE = "scorecard baseline"


@dataclass(frozen=True)
class ShapRow:
    feature: str
    zh: str
    en: str
    mean_abs_shap: float


@dataclass(frozen=True)
class Review:
    """Everything the review report shows; tables are DataFrames in the report's own columns."""

    model: str
    method: str
    windows: Mapping[str, tuple[str, str]]
    sampling: str
    best_iteration: int
    features: tuple[str, ...]
    monotone: Mapping[str, int]
    dropped_columns: Mapping[str, str]
    scale: Mapping[str, object]
    platt_intercept: float
    platt_slope: float
    metrics: Mapping[str, float]
    comparison: Mapping[str, Discrimination]
    champion: str
    calibration: pd.DataFrame
    grades: pd.DataFrame
    score_psi: float | None
    feature_psi: pd.DataFrame
    segments: pd.DataFrame
    shap: tuple[ShapRow, ...]
    baseline_iv: pd.DataFrame
    gate: GateDecision
    sections: tuple[Section, ...] = ()
    served: Mapping[str, object] = field(default_factory=dict)  # FamilyChoice.as_dict()

    def as_dict(self) -> dict:
        """The JSON rendering logged with the run (NaN becomes null)."""
        return _finite(
            {
                "model": self.model,
                "method": self.method,
                "windows": dict(self.windows),
                "sampling": self.sampling,
                "best_iteration": self.best_iteration,
                "features": list(self.features),
                "monotone": dict(self.monotone),
                "dropped_columns": dict(self.dropped_columns),
                "scale": dict(self.scale),
                "calibration": {
                    "platt_intercept": self.platt_intercept,
                    "platt_slope": self.platt_slope,
                },
                "metrics": dict(self.metrics),
                "comparison": {k: v.as_dict() for k, v in self.comparison.items()},
                "champion": self.champion,
                "calibration_table": _records(self.calibration),
                "grades": _records(self.grades),
                "stability": {
                    "score_psi": self.score_psi,
                    "features": _records(self.feature_psi),
                },
                "segments": _records(self.segments),
                "shap": [vars(r) for r in self.shap],
                "baseline_iv": _records(self.baseline_iv),
                "gate": self.gate.as_dict(),
                "served": dict(self.served),
                "sections": section_records(self.sections),
            }
        )


def _finite(v: object) -> object:
    """JSON has no NaN: missing figures become null (recursively, numpy scalars unwrapped)."""
    if isinstance(v, Mapping):
        return {str(k): _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return df.to_dict("records")


def segment_table(held: pd.DataFrame, column: str, min_rows: int) -> pd.DataFrame:
    """AUC and KS per level of a segment (region, entity kind) on the held-out rows; levels
    with fewer than the gate's ``min_rows`` are left out, as the gate leaves them unjudged."""
    rows = []
    for level, part in held.groupby(held[column].astype("str"), sort=True):
        if len(part) < min_rows:
            continue
        row = {
            "segment": column,
            "level": level,
            "n": len(part),
            "bad_rate": part["y"].mean(),
            "auc": auc(part["y"], part["p_model"]),
            "ks": ks(part["y"], part["p_model"]),
        }
        if "p_baseline" in part:
            row["baseline_auc"] = auc(part["y"], part["p_baseline"])
        rows.append(row)
    return pd.DataFrame(rows)


def grade_table(model: RiskModel, p: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """The master scale on the held-out rows: per grade its PD band, rows, share, points
    range, mean predicted PD and observed bad rate (which must rise from A to D)."""
    points = model.scale.points(p)
    frame = pd.DataFrame({"grade": model.cuts.grade(p), "points": points, "p": p, "y": y})
    t = frame.groupby("grade").agg(
        n=("y", "size"),
        points_min=("points", "min"),
        points_max=("points", "max"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
    )
    t["share"] = t["n"] / t["n"].sum()
    bands = pd.DataFrame([{"grade": g, "pd_from": lo, "pd_below": hi}
                          for g, lo, hi in model.cuts.bands()])
    return bands.merge(t.reset_index(), on="grade", how="inner")


def feature_psi(
    reference: pd.DataFrame, held: pd.DataFrame, features: Sequence[str]
) -> pd.DataFrame:
    rows = []
    for f in features:
        a, b = reference[f], held[f]
        numeric = pd.api.types.is_numeric_dtype(a) or pd.api.types.is_bool_dtype(a)
        value = (
            psi(a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan))
            if numeric
            else psi_categorical(a, b)
        )
        rows.append({"feature": f, "psi": value})
    return pd.DataFrame(rows, columns=["feature", "psi"])


def gate_figures(grades: pd.DataFrame, segments: pd.DataFrame, segment: str) -> dict[str, float]:
    """Rows and bad rate per grade (empty grades as 0 rows) and the gate segment's figures.

    Logged as run metrics so that ``promote`` re-reads exactly what the report showed.
    """
    by_grade = grades.set_index("grade") if len(grades) else pd.DataFrame()
    out: dict[str, float] = {}
    for g in GRADES:
        present = g in by_grade.index
        out[grade_metric(g, "n")] = float(by_grade.loc[g, "n"]) if present else 0.0
        out[grade_metric(g, "bad_rate")] = (
            float(by_grade.loc[g, "observed"]) if present else math.nan
        )
    if len(segments) and "segment" in segments:
        for row in segments[segments["segment"] == segment].itertuples(index=False):
            for f in ("n", "bad_rate", "auc", "baseline_auc"):
                if hasattr(row, f):
                    out[segment_metric(segment, row.level, f)] = float(getattr(row, f))
    return out


def review_metrics(
    comparison: Mapping[str, Discrimination],
    score_psi: float | None,
    extra: Mapping[str, float] | None,
    champion_version: str | None = None,
    kfold: bool = False,
) -> dict[str, float]:
    """The flat metrics logged to MLflow and read by the gate (names in :mod:`models.gate`):
    ``test_*`` are the served model's; ``lightgbm_auc`` and ``baseline_*`` each family's."""
    m = comparison[SERVED]
    out = {
        "test_auc": m.auc,
        "test_gini": m.gini,
        "test_ks": m.ks,
        "test_brier": m.brier,
        "test_calibration_ratio": m.calibration_ratio,
        "test_ece": m.ece,
        "test_bad_rate": m.bad_rate,
    }
    if score_psi is not None:
        out["score_psi"] = score_psi
    if kfold:
        out[KFOLD_METRIC] = 1.0
    if LIGHTGBM in comparison:
        out["lightgbm_auc"] = comparison[LIGHTGBM].auc
    if BASELINE in comparison:
        b = comparison[BASELINE]
        out |= {
            "baseline_auc": b.auc,
            "baseline_gini": b.gini,
            "baseline_ks": b.ks,
            "baseline_brier": b.brier,
        }
    scored = f"champion v{champion_version}"
    if champion_version is not None and scored in comparison:
        out[CHAMPION_AUC_METRIC] = comparison[scored].auc
        out[CHAMPION_VERSION_METRIC] = int(champion_version)
    return {k: float(v) for k, v in {**out, **dict(extra or {})}.items()}


def build_review(
    fit: FitResult,
    *,
    segments: Sequence[str] = (),
    champion: RiskModel | None = None,
    champion_version: str | None = None,
    extra: Mapping[str, float] | None = None,
    thresholds: GateThresholds | None = None,
    seed: int = 0,
    cluster: str | None = None,
    sections: Sequence[Section] = (),
) -> Review:
    """Score the held-out rows every way the report needs and decide the gate.

    The fit brings the family choice and the intervals it was made on (entity-clustered
    bootstrap overall and per level of the compared segment, with the hidden-truth ceiling
    on a synthetic market); ``cluster`` (the entity id column kept in the held-out rows) also
    follows each entity's grade from one month-end to the next. ``sections`` are tables a
    pipeline adds (e.g. recall per fraud pattern).
    """
    model, held = fit.model, fit.held_out
    y, p = held["y"].to_numpy(), held["p_model"].to_numpy()
    sample = held.sample(min(SHAP_SAMPLE, len(held)), random_state=seed)
    shap = shap_summary(model.contributions(model.encoder.matrix(sample)), model.features)
    top = [f for f, _ in shap[:TOP_FEATURES]]
    comparison = {SERVED: fit.metrics["served"], LIGHTGBM: fit.metrics["lightgbm"]}
    if "baseline" in fit.metrics:
        comparison[BASELINE] = fit.metrics["baseline"]
    champion_note = "no champion yet"
    if champion is not None:
        missing = [f for f in champion.features if f not in held.columns]
        if missing:
            champion_note = (
                f"champion v{champion_version} needs features not in this table: {missing[:5]}"
            )
        else:
            comparison[f"champion v{champion_version}"] = discrimination(y, champion.predict(held))
            champion_note = f"champion v{champion_version} scored on the same held-out rows"
    score_psi, psi_table = None, pd.DataFrame(columns=["feature", "psi"])
    if fit.reference is not None:
        score_psi = psi(fit.reference["p_model"].to_numpy(), p)
        psi_table = feature_psi(fit.reference, held, top)
    t = thresholds or GateThresholds()
    seg = pd.concat(
        [segment_table(held, s, t.min_rows) for s in segments if s in held.columns]
        or [pd.DataFrame()]
    )
    grades = grade_table(model, p, y)
    metrics = review_metrics(comparison, score_psi, extra, champion_version,
                             fit.method == "k-fold") | gate_figures(grades, seg, t.segment)
    in_force = (
        {CURRENT_CHAMPION_KEY: float(champion_version)}
        if champion is not None and champion_version is not None
        else {}
    )
    return Review(
        model=model.kind,
        method=fit.method,
        windows=dict(fit.windows),
        sampling=fit.sampling,
        best_iteration=int(fit.best_iteration),
        features=tuple(model.features),
        monotone=dict(model.monotone),
        dropped_columns=dict(fit.columns.dropped),
        scale={
            "base_score": model.scale.base_score,
            "base_odds": model.scale.base_odds,
            "pdo": model.scale.pdo,
            "grade_max_pd": {"A": model.cuts.a_max_pd, "B": model.cuts.b_max_pd,
                                  "C": model.cuts.c_max_pd},
        },
        platt_intercept=float(model.platt.intercept),
        platt_slope=float(model.platt.slope),
        metrics=metrics,
        comparison=comparison,
        champion=champion_note,
        calibration=calibration_table(y, p),
        grades=grades,
        score_psi=score_psi,
        feature_psi=psi_table,
        segments=seg,
        shap=tuple(ShapRow(f, *describe(f, model.descriptions), float(v)) for f, v in shap),
        baseline_iv=(
            fit.baseline.iv_table().head(20) if fit.baseline is not None else pd.DataFrame()
        ),
        sections=_sections(fit, held, cluster, sections, seed),
        gate=review_gate(metrics | in_force, t),
        served=fit.choice.as_dict(),
    )


def _sections(fit: FitResult, held: pd.DataFrame, cluster: str | None,
              extra: Sequence[Section], seed: int) -> tuple[Section, ...]:
    out = [choice_section(fit.choice)]
    if fit.evidence:
        out.append(evidence_section(fit.evidence, cluster or "row"))
    if fit.selection:
        out.append(selection_section(fit.selection[0]))
    if fit.method == "out-of-time":  # k-fold refits on every row: nothing is held out
        out.append(importance_section(fit.model, held, seed))
    stability = grade_stability(held, fit.model, cluster, fit.time)
    if stability is not None:
        out.append(stability)
    return (*out, *extra)
