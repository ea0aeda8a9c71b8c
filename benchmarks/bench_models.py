"""Models on the full-scale synthetic market: training time, credit and anomaly figures.

Steps: generate the market (``--scale 1``, 2011–2020) unless ``--market`` already holds one,
build the month-end panel 2012-01..2019-12 (labels need the 12 months after as-of, so 2019 is
the last complete year) unless ``--home`` already holds it, then time ``train_panel`` — both
models, reviews, MLflow logging and registration — which is what ``techcredit train`` runs.
A small-table section checks the "any table" path against the scorecard on the
known-signal table at sizes where untuned boosting usually loses.

Run: ``.venv/bin/python -m benchmarks.bench_models [--market DIR] [--home DIR]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--market", type=Path, default=Path(".techcredit/bench/market"))
    ap.add_argument("--home", type=Path, default=Path(".techcredit/bench/home"))
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    os.environ["TECHCREDIT_HOME"] = str(args.home.resolve())
    from pipelines.runtime import configure

    settings = configure()
    from benchmarks.report import peak_rss_mib, write_section
    from features.point_in_time.build import month_ends
    from features.synthetic.market import generate_market, write_market
    from features.synthetic.spec import MarketSpec
    from models.fit import fit_risk_model
    from models.known_signal import credit_table
    from pipelines.build_features import build_features_flow
    from pipelines.train_panel import train_panel

    if not (args.market / "contracts.parquet").exists():
        write_market(generate_market(MarketSpec(2011, 2020, args.scale, 7)), args.market)
    t0 = time.perf_counter()
    if not (settings.features_dir / "broker").is_dir():
        build_features_flow(month_ends("2012-01", "2019-12"), args.market, settings)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    anomaly, credit = train_panel(settings, args.market)
    train_s = time.perf_counter() - t0

    c, a = credit.comparison, anomaly.metrics
    lg, base = c["lightgbm"], c["scorecard baseline"]
    rows = [
        ("credit test window (as-of dates)", " – ".join(credit.windows["test"])),
        ("credit train window", " – ".join(credit.windows["train"])),
        ("credit test rows / bad rate", f"{lg.n:,} / {lg.bad_rate:.4f}"),
        ("credit AUC, LightGBM", f"{lg.auc:.4f}"),
        ("credit AUC, WOE scorecard baseline", f"{base.auc:.4f}"),
        ("credit KS, LightGBM / baseline", f"{lg.ks:.4f} / {base.ks:.4f}"),
        ("credit Gini, LightGBM / baseline", f"{lg.gini:.4f} / {base.gini:.4f}"),
        ("credit Brier, LightGBM / baseline", f"{lg.brier:.5f} / {base.brier:.5f}"),
        ("credit expected/observed bads (test)", f"{lg.calibration_ratio:.3f}"),
        ("credit score PSI train→test", f"{credit.metrics.get('score_psi', float('nan')):.4f}"),
        (
            "anomaly test rows / base rate",
            f"{anomaly.comparison['lightgbm'].n:,} / {a['anomaly_base_rate']:.5f}",
        ),
        ("anomaly AUC", f"{a['test_auc']:.4f}"),
        (
            "anomaly average precision (× base rate)",
            f"{a['anomaly_ap']:.4f} ({a['anomaly_ap_lift']:.1f}×)",
        ),
        (
            f"anomaly precision, each office reviews its top {settings.office_review_capacity}",
            f"{a['anomaly_precision_at_k_per_office']:.4f}",
        ),
        ("anomaly recall at that review budget", f"{a['anomaly_recall_at_k']:.4f}"),
        (
            "anomaly AUC of the WOE scorecard on the same split",
            f"{anomaly.comparison['scorecard baseline'].auc:.4f}",
        ),
        (
            "feature build, month-end panel 2012-01..2019-12",
            f"{build_s:.0f} s" if build_s > 1 else "reused",
        ),
        ("training: both models + reviews + MLflow (train_panel)", f"{train_s:.0f} s"),
        ("peak memory (max RSS)", f"{peak_rss_mib() / 1024:.2f} GiB"),
    ]
    small = []
    for n in (1000, 3000, 10000):
        for seed in (1, 2, 3):
            r = fit_risk_model(credit_table(n, seed=seed), "y", "as_of", exclude=["entity_id"])
            small.append((n, seed, r.metrics["lightgbm"].auc, r.metrics["baseline"].auc))
    body = (
        "| figure | value |\n| --- | --- |\n"
        + "\n".join(f"| {k} | {v} |" for k, v in rows)
        + "\n\nSmall tables (`models.known_signal.credit_table`, out-of-time on the last year, "
        "untuned defaults):\n\n| rows | seed | LightGBM AUC | scorecard AUC |\n"
        "| --- | --- | --- | --- |\n"
        + "\n".join(f"| {n:,} | {s} | {la:.4f} | {ba:.4f} |" for n, s, la, ba in small)
        + "\n"
    )
    write_section("models", "python -m benchmarks.bench_models", body)
    print(body)


if __name__ == "__main__":
    main()
