"""Renderings of a :class:`~models.review.Review` for people: PNG charts and one
self-contained HTML page (images inlined) that a reviewer opens from the run's artifacts.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence

import pandas as pd

from models.gate import GateDecision
from models.review import Review


def plots(review: Review, held: pd.DataFrame) -> dict[str, bytes]:
    """Calibration curve, score distribution and SHAP bar chart as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    cal = review.calibration
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
    shap = pd.DataFrame([vars(r) for r in review.shap[:15]]).iloc[::-1]
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


def _table(rows: pd.DataFrame | Sequence[Mapping], digits: int = 4) -> str:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        return "<p>(none)</p>"
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:.{digits}g}", na_rep="–", border=0, classes="t"
    )


def _gate_lines(gate: GateDecision) -> str:
    """Failures and flagged segments first: the reviewer must answer each in the note."""
    flagged = gate.flagged_segments
    items = [
        f"<li><b>failed 未通过</b>: {html.escape(c.name)} = {c.value:.4f} violates "
        f"{html.escape(c.rule)}</li>"
        for c in gate.checks
        if not c.passed and c not in flagged
    ]
    items += [
        f"<li>flagged segment 预警分组: {html.escape(c.name)} = {c.value:.4f} (n = {c.n}), "
        f"rule {html.escape(c.rule)}</li>"
        for c in flagged
    ]
    items += [
        f"<li>not judged 未评判: {html.escape(c.name)} — {html.escape(c.skipped)}</li>"
        for c in gate.checks
        if c.skipped
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def render_html(review: Review, images: Mapping[str, bytes]) -> str:
    """A self-contained page (images inlined) that a reviewer can open from the run's artifacts."""
    img = {k: base64.b64encode(v).decode() for k, v in images.items()}
    gate = review.gate
    comparison = [{"model": k, **v.as_dict()} for k, v in review.comparison.items()]
    parts = [
        f"<h1>Model review 模型评审 — {html.escape(review.model)}</h1>",
        (
            f"<p>Validation: {review.method}; windows {html.escape(json.dumps(review.windows))}; "
            f"training sample: {html.escape(review.sampling)}; trees: {review.best_iteration}.</p>"
        ),
        f"<h2>Review gate 评审门槛: {'PASSED 通过' if gate.passed else 'FAILED 未通过'}</h2>",
        _gate_lines(gate),
        _table([vars(c) for c in gate.checks]),
        "<h2>Discrimination and accuracy 区分能力与准确性 (held-out)</h2>",
        _table(comparison),
        f"<p>{html.escape(review.champion)}</p>",
        "<h2>Calibration 校准</h2>",
        _table(review.calibration),
        f'<img src="data:image/png;base64,{img.get("calibration.png", "")}">',
        "<h2>Score distribution by grade 等级分布</h2>",
        _table(review.grades),
        f'<img src="data:image/png;base64,{img.get("score_distribution.png", "")}">',
        "<h2>Stability 稳定性 (PSI, training vs test period)</h2>",
        f"<p>Score PSI: {review.score_psi}</p>",
        _table(review.feature_psi),
        "<h2>Performance by segment 分组表现</h2>",
        _table(review.segments),
        *[
            f"<h2>{html.escape(sec.title_en)} {html.escape(sec.title_zh)}</h2>"
            f"<p>{html.escape(sec.note)}</p>{_table(sec.table)}"
            for sec in review.sections
        ],
        "<h2>SHAP summary 特征贡献</h2>",
        _table([vars(r) for r in review.shap[:20]]),
        f'<img src="data:image/png;base64,{img.get("shap_summary.png", "")}">',
        "<h2>Scorecard baseline: information value 评分卡基准 IV</h2>",
        _table(review.baseline_iv),
        "<h2>Other metrics</h2>",
        _table([{"metric": k, "value": v} for k, v in review.metrics.items()]),
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
