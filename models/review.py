"""The model review report: the figures a credit-model validator signs off, as JSON and HTML.

Contents: discrimination (AUC, Gini, KS), accuracy (Brier, calibration table and
expected/observed ratio), the score distribution by grade, stability (PSI of the score and
of the top features between the training and test periods), performance by segment,
the SHAP summary, and the comparison with the scorecard baseline and the current champion.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from models.fit import FitResult
from models.gate import GateThresholds, review_gate
from models.metrics import auc, calibration_table, discrimination, ks, psi, psi_categorical
from models.reasons import describe, shap_summary
from models.risk_model import RiskModel

SHAP_SAMPLE = 5000
TOP_FEATURES = 10


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


def segment_table(held: pd.DataFrame, column: str, min_rows: int = 30) -> pd.DataFrame:
    """AUC and KS per level of a segment (region, entity kind) on the held-out rows."""
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
    """Score distribution: rows, share, PD and observed bad rate per grade."""
    points = model.scale.points(p)
    frame = pd.DataFrame({"grade": model.cuts.grade(points), "points": points, "p": p, "y": y})
    t = frame.groupby("grade").agg(
        n=("y", "size"),
        points_min=("points", "min"),
        points_max=("points", "max"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
    )
    t["share"] = t["n"] / t["n"].sum()
    return t.reset_index()


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
    return pd.DataFrame(rows)


def build_review(
    fit: FitResult,
    *,
    segments: Sequence[str] = (),
    champion: RiskModel | None = None,
    champion_version: str | None = None,
    extra: Mapping[str, float] | None = None,
    thresholds: GateThresholds | None = None,
    seed: int = 0,
) -> dict:
    """Everything the report shows, as plain JSON-ready data."""
    model, held = fit.model, fit.held_out
    y, p = held["y"].to_numpy(), held["p_model"].to_numpy()
    sample = held.sample(min(SHAP_SAMPLE, len(held)), random_state=seed)
    contrib = model.contributions(model.encoder.matrix(sample))
    shap = shap_summary(contrib, model.features)
    top = [f for f, _ in shap[:TOP_FEATURES]]
    comparison = {"lightgbm": fit.metrics["lightgbm"].as_dict()}
    if "baseline" in fit.metrics:
        comparison["scorecard baseline"] = fit.metrics["baseline"].as_dict()
    champion_note = "no champion yet"
    if champion is not None:
        missing = [f for f in champion.features if f not in held.columns]
        if missing:
            champion_note = (
                f"champion v{champion_version} needs features not in this table: {missing[:5]}"
            )
        else:
            held = held.assign(p_champion=champion.predict(held))
            comparison[f"champion v{champion_version}"] = discrimination(
                y, held["p_champion"]
            ).as_dict()
            champion_note = f"champion v{champion_version} scored on the same held-out rows"
    stability = {"score_psi": None, "features": []}
    if fit.reference is not None:
        stability["score_psi"] = psi(fit.reference["p_model"].to_numpy(), p)
        stability["features"] = _records(feature_psi(fit.reference, held, top))
    metrics = {
        "test_auc": comparison["lightgbm"]["auc"],
        "test_gini": comparison["lightgbm"]["gini"],
        "test_ks": comparison["lightgbm"]["ks"],
        "test_brier": comparison["lightgbm"]["brier"],
        "test_calibration_ratio": comparison["lightgbm"]["calibration_ratio"],
        "test_ece": comparison["lightgbm"]["ece"],
        "test_bad_rate": comparison["lightgbm"]["bad_rate"],
        **({"score_psi": stability["score_psi"]} if stability["score_psi"] is not None else {}),
        **(
            {
                f"baseline_{k}": comparison["scorecard baseline"][k]
                for k in ("auc", "gini", "ks", "brier")
            }
            if "scorecard baseline" in comparison
            else {}
        ),
        **dict(extra or {}),
    }
    seg = pd.concat(
        [segment_table(held, s) for s in segments if s in held.columns] or [pd.DataFrame()]
    )
    return _finite(
        {
            "model": model.kind,
            "method": fit.method,
            "windows": fit.windows,
            "sampling": fit.sampling,
            "best_iteration": fit.best_iteration,
            "features": list(model.features),
            "monotone": dict(model.monotone),
            "dropped_columns": dict(fit.columns.dropped),
            "scale": {
                "base_score": model.scale.base_score,
                "base_odds": model.scale.base_odds,
                "pdo": model.scale.pdo,
                "cuts": {"A": model.cuts.a, "B": model.cuts.b, "C": model.cuts.c},
            },
            "calibration": {
                "platt_intercept": model.platt.intercept,
                "platt_slope": model.platt.slope,
            },
            "metrics": {k: float(v) for k, v in metrics.items()},
            "comparison": comparison,
            "champion": champion_note,
            "calibration_table": _records(calibration_table(y, p)),
            "grades": _records(grade_table(model, p, y)),
            "stability": stability,
            "segments": _records(seg),
            "shap": [
                {
                    "feature": f,
                    "zh": describe(f, model.descriptions)[0],
                    "en": describe(f, model.descriptions)[1],
                    "mean_abs_shap": v,
                }
                for f, v in shap
            ],
            "baseline_iv": _records(fit.baseline.iv_table().head(20))
            if fit.baseline is not None
            else [],
            "gate": review_gate(metrics, thresholds or GateThresholds()).as_dict(),
        }
    )


def plots(review: Mapping, held: pd.DataFrame) -> dict[str, bytes]:
    """Calibration curve, score distribution and SHAP bar chart as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    cal = pd.DataFrame(review["calibration_table"])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    hi = max(cal["predicted"].max(), cal["observed"].max()) * 1.05
    ax.plot([0, hi], [0, hi], color="grey", lw=1, ls="--", label="perfect")
    ax.plot(cal["predicted"], cal["observed"], marker="o", label="test period")
    ax.set(xlabel="predicted bad rate", ylabel="observed bad rate", title="Calibration by decile")
    ax.legend()
    out["calibration.png"] = _png(fig, plt)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for label, part in held.groupby("y"):
        ax.hist(part["p_model"], bins=40, alpha=0.6, density=True, label="bad" if label else "good")
    ax.set(
        xscale="linear",
        xlabel="predicted probability",
        ylabel="density",
        title="Score distribution, test period",
    )
    ax.legend()
    out["score_distribution.png"] = _png(fig, plt)
    shap = pd.DataFrame(review["shap"]).head(15).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(shap) + 1))
    ax.barh(shap["feature"], shap["mean_abs_shap"])
    ax.set(xlabel="mean |SHAP| (log-odds)", title="SHAP summary")
    out["shap_summary.png"] = _png(fig, plt)
    return out


def _png(fig, plt) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _table(rows: Sequence[Mapping], digits: int = 4) -> str:
    if not rows:
        return "<p>(none)</p>"
    return pd.DataFrame(rows).to_html(
        index=False, float_format=lambda v: f"{v:.{digits}g}", na_rep="–", border=0, classes="t"
    )


def render_html(review: Mapping, images: Mapping[str, bytes]) -> str:
    """A self-contained page (images inlined) that a reviewer can open from the run's artifacts."""
    img = {k: base64.b64encode(v).decode() for k, v in images.items()}
    gate = review["gate"]
    comparison = [{"model": k, **v} for k, v in review["comparison"].items()]
    parts = [
        f"<h1>Model review 模型评审 — {html.escape(review['model'])}</h1>",
        (
            f"<p>Validation: {review['method']}; windows {html.escape(json.dumps(review['windows']))}; "
            f"training sample: {html.escape(review['sampling'])}; trees: {review['best_iteration']}.</p>"
        ),
        f"<h2>Review gate 评审门槛: {'PASSED 通过' if gate['passed'] else 'FAILED 未通过'}</h2>",
        _table(gate["checks"]),
        "<h2>Discrimination and accuracy 区分能力与准确性 (held-out)</h2>",
        _table(comparison),
        f"<p>{html.escape(review['champion'])}</p>",
        "<h2>Calibration 校准</h2>",
        _table(review["calibration_table"]),
        f'<img src="data:image/png;base64,{img.get("calibration.png", "")}">',
        "<h2>Score distribution by grade 等级分布</h2>",
        _table(review["grades"]),
        f'<img src="data:image/png;base64,{img.get("score_distribution.png", "")}">',
        "<h2>Stability 稳定性 (PSI, training vs test period)</h2>",
        f"<p>Score PSI: {review['stability']['score_psi']}</p>",
        _table(review["stability"]["features"]),
        "<h2>Performance by segment 分组表现</h2>",
        _table(review["segments"]),
        "<h2>SHAP summary 特征贡献</h2>",
        _table(review["shap"][:20]),
        f'<img src="data:image/png;base64,{img.get("shap_summary.png", "")}">',
        "<h2>Scorecard baseline: information value 评分卡基准 IV</h2>",
        _table(review["baseline_iv"]),
        "<h2>Other metrics</h2>",
        _table([{"metric": k, "value": v} for k, v in review["metrics"].items()]),
    ]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table.t{border-collapse:collapse;font-size:13px}"
        "table.t td,table.t th{border:1px solid #ccc;padding:2px 6px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Model review</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
