"""Models on the full-scale synthetic market: figures with intervals, seeds and the ceiling.

Steps: generate the market (``--scale 1``, 2011–2020, seed 7) unless ``--market`` already
holds one, build the month-end panel 2012-01..2019-12 unless ``--home`` already holds it,
train and register the anomaly model and then the credit model once per training seed (3).
Credit figures are per entity kind with entity-clustered bootstrap 95% intervals (first
seed), the spread over seeds, and the ceiling: the AUC of the hidden integrity itself from
the truth file. Anomaly figures: average precision, precision and recall when each office
reviews its top k, and recall per fraud pattern for the model, the rules in force and both
combined (intervals resampling planted schemes, spread over seeds; held-out patterns are
variants whose own shape no feature or rule threshold was chosen on), and the share of the
largest honest parties' contracts in the top decile and on the review list.

Run: ``.venv/bin/python -m benchmarks.bench_models [--market DIR] [--home DIR] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

SEGMENTS = ("all", "institution", "broker")


def _credit_tables(fits: list, seeds: list[int]) -> str:
    from models.evidence import evidence_by_segment, seed_spread
    from models.metrics import auc
    from models.panels import TRUTH_RISK
    from models.specs import CREDIT

    assert CREDIT.cluster is not None and CREDIT.cluster.resampled is not None
    scores = {"LightGBM": "p_model", "scorecard": "p_baseline"}
    first = {e.segment: e for e in evidence_by_segment(
        fits[0].held_out, scores, CREDIT.cluster.resampled, "entity_kind", TRUTH_RISK)}
    lines = [
        "| segment | rows / entities / bads | LightGBM AUC [95%] | scorecard AUC [95%] "
        "| gain [95%] | LightGBM KS [95%] | scorecard KS [95%] | ceiling AUC |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for seg in SEGMENTS:
        e = first[seg]
        b = e.bootstrap
        lines.append(
            f"| {seg} | {b.n:,} / {b.clusters:,} / {b.bads:,} | {b.auc['LightGBM']} "
            f"| {b.auc['scorecard']} | {b.auc_gain['scorecard']} | {b.ks['LightGBM']} "
            f"| {b.ks['scorecard']} | {e.ceiling:.4f} |"
        )
    lines += ["", f"Over {len(seeds)} training seeds ({', '.join(map(str, seeds))}): "
              "mean ± sd (min, max).", "",
              "| segment | LightGBM AUC | scorecard AUC | gain | LightGBM − ceiling |",
              "| --- | --- | --- | --- | --- |"]
    for seg in SEGMENTS:
        lg, card, gain, room = [], [], [], []
        for f in fits:
            h = f.held_out if seg == "all" else f.held_out[f.held_out["entity_kind"] == seg]
            y = h["y"].to_numpy()
            lg.append(auc(y, h["p_model"]))
            card.append(auc(y, h["p_baseline"]))
            gain.append(lg[-1] - card[-1])
            room.append(lg[-1] - auc(y, h[TRUTH_RISK]))
        lines.append(f"| {seg} | {seed_spread(lg)} | {seed_spread(card)} | {seed_spread(gain)} "
                     f"| {seed_spread(room)} |")
    return "\n".join(lines)


def _detection_tables(anomalies: list, k: int) -> str:
    """Per pattern and per family: share in the top 2 % of the test year and recall at each
    office's capacity (intervals from the first seed, spread over seeds), and the largest
    honest parties' exposure."""
    from features.synthetic.patterns import FAMILY_OF
    from models.detection import PLANTED_TOP, large_party_exposure, top_by_rank
    from models.metrics import top_k_by_group
    from models.specs import ANOMALY

    assert ANOMALY.review is not None
    rankings = ANOMALY.review.rankings
    held = anomalies[0].fit.held_out
    offices = held["office_id"].to_numpy()
    lists = {}
    for n, v in rankings(held).items():
        lists[f"top {n}"] = top_by_rank(v, PLANTED_TOP)
        lists[n] = top_k_by_group(v, offices, k)
    per_seed = [_seed_lists(step.fit.held_out, rankings, k) for step in anomalies]
    pattern = held["pattern"].fillna("").astype("str").to_numpy()
    family = np.array([FAMILY_OF.get(p, "") for p in pattern], dtype=object)
    lines = []
    for label, groups in (("pattern", pattern), ("family", family)):
        lines += _group_table(label, groups, held["event_id"].to_numpy(), lists, per_seed)
        lines.append("")
    exposure = large_party_exposure(held["seller_id"].to_numpy(), held["pattern"].to_numpy(),
                                    offices, k, rankings(held))
    lines += ["Largest honest parties (the 10 sellers with the most test-year contracts and "
              f"none planted), first seed; bound: their share of the top {PLANTED_TOP:.0%} at "
              "most twice their share of all contracts:", "",
              f"| ranking | their contracts | share of all contracts | in the top "
              f"{PLANTED_TOP:.0%} | their share of the top over their share of all | within "
              "bound | in the top decile | on the review list | review list share of all |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    n_all = len(held)
    lines += [f"| {r.ranking} | {r.contracts:,} | {r.contracts / n_all:.4f} | {r.top_share:.4f} "
              f"| {r.top_over_share:.2f} | {'yes' if r.top_over_share <= 2 else 'NO'} "
              f"| {r.top_decile_share:.3f} | {r.review_share:.4f} | {r.review_share_all:.4f} |"
              for r in exposure.itertuples()]
    return "\n".join(lines)


def _seed_lists(held, rankings, k: int) -> dict:
    """One seed's (top 2 %, review list) per ranking, keyed like the first seed's lists."""
    from models.detection import PLANTED_TOP, top_by_rank
    from models.metrics import top_k_by_group

    offices = held["office_id"].to_numpy()
    out = {"pattern": held["pattern"].fillna("").astype("str").to_numpy()}
    for n, v in rankings(held).items():
        out[f"top {n}"] = top_by_rank(v, PLANTED_TOP)
        out[n] = top_k_by_group(v, offices, k)
    return out


def _group_table(label: str, groups, event, lists: dict, per_seed: list) -> list[str]:
    """Rows of one grouping (pattern or family): intervals resampling planted schemes."""
    from features.synthetic.patterns import FAMILY_OF, HELD_OUT
    from models.detection import PLANTED_TOP, recall_intervals
    from models.evidence import seed_spread

    ci = recall_intervals(groups, event, lists).set_index(["pattern", "ranking"])
    cols = ("top model", "top combined", "model", "rules", "combined")
    head = (f"| {label} | {'family | held out | ' if label == 'pattern' else ''}planted "
            f"contracts / schemes | top {PLANTED_TOP:.0%}: model [95%] | top {PLANTED_TOP:.0%}: "
            "model + rules [95%] | caught (≥ half in the top) | at capacity: model [95%] | "
            "rules [95%] | model + rules [95%] | top, model + rules, over seeds | capacity, "
            "model + rules, over seeds |")
    width = head.count("|") - 1
    lines = [head, "|" + " --- |" * width]
    names = sorted(set(groups) - {""})
    for name in names:
        cells = [f"{ci.loc[(name, c), 'recall']:.3f} [{ci.loc[(name, c), 'lo']:.3f}, "
                 f"{ci.loc[(name, c), 'hi']:.3f}]" for c in cols]
        caught = "yes" if ci.loc[(name, "top combined"), "recall"] >= 0.5 else "no"
        spread = []
        for c in ("top combined", "combined"):
            vals = []
            for seed in per_seed:
                g = seed["pattern"] if label == "pattern" else np.array(
                    [FAMILY_OF.get(p, "") for p in seed["pattern"]], dtype=object)
                mine = g == name
                vals.append(float(seed[c][mine].mean()) if mine.any() else float("nan"))
            spread.append(seed_spread(vals))
        held_out = ""
        if label == "pattern":
            held_out = f"{FAMILY_OF.get(name, '')} | {'yes' if name in HELD_OUT else ''} | "
        n = int((groups == name).sum())
        lines.append(f"| {name} | {held_out}{n:,} / {int(ci.loc[(name, 'model'), 'schemes']):,} "
                     f"| {cells[0]} | {cells[1]} | {caught} | {cells[2]} | {cells[3]} "
                     f"| {cells[4]} | {spread[0]} | {spread[1]} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--market", type=Path, default=Path(".techcredit/bench/market"))
    ap.add_argument("--home", type=Path, default=Path(".techcredit/bench/home"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    os.environ["TECHCREDIT_HOME"] = str(args.home.resolve())
    from pipelines.runtime import configure

    settings = configure()
    from benchmarks.report import peak_rss_mib, write_section
    from features.point_in_time.build import month_ends
    from features.synthetic.market import generate_market, write_market
    from features.synthetic.spec import MarketSpec
    from models.registry import ANOMALY_MODEL
    from pipelines.build_features import build_features_flow
    from pipelines.training.panel import (
        credit_training_frame,
        read_tables,
        train_anomaly,
        train_credit,
    )

    if not (args.market / "contracts.parquet").exists():
        write_market(generate_market(MarketSpec(2011, 2020, args.scale, 7)), args.market)
    t0 = time.perf_counter()
    if not (settings.features_dir / "broker").is_dir():
        build_features_flow(month_ends("2012-01", "2019-12"), args.market, settings)
    build_s = time.perf_counter() - t0
    tables = read_tables(settings, args.market)
    seeds = list(range(args.seeds))
    anomalies, anomaly_s = [], []
    for s in seeds:
        t0 = time.perf_counter()
        anomalies.append(train_anomaly(settings.model_copy(update={"seed": s}), tables))
        anomaly_s.append(time.perf_counter() - t0)
    anomaly = anomalies[0]
    credit = credit_training_frame(settings, tables, anomaly, args.market)
    fits, summaries, credit_s = [], [], []
    for s in seeds:
        t0 = time.perf_counter()
        summary, fit = train_credit(settings.model_copy(update={"seed": s}), credit,
                                    f"{ANOMALY_MODEL} v{anomaly.summary.version}")
        credit_s.append(time.perf_counter() - t0)
        fits.append(fit)
        summaries.append(summary)

    a = anomaly.summary.metrics
    k = settings.offices.review_capacity
    windows = fits[0].windows
    rows = [
        ("as-of windows (12-month gaps between)",
         f"train {' – '.join(windows['train'])}, valid {' – '.join(windows['valid'])}, "
         f"test {' – '.join(windows['test'])}"),
        ("credit features kept / dropped as noise",
         f"{len(fits[0].model.features)} / "
         f"{sum('permutation' in v for v in fits[0].columns.dropped.values())}"),
        ("anomaly test rows / base rate (found false within 12 months)",
         f"{anomaly.summary.comparison['lightgbm'].n:,} / {a['anomaly_base_rate']:.5f}"),
        ("anomaly AUC, LightGBM / scorecard",
         f"{a['test_auc']:.4f} / {a['baseline_auc']:.4f}"),
        ("anomaly average precision (× base rate)",
         f"{a['anomaly_ap']:.4f} ({a['anomaly_ap_lift']:.1f}×)"),
        (f"anomaly precision, each office reviews its top {k}",
         f"{a['anomaly_precision_at_k_per_office']:.4f}"),
        ("anomaly recall of found-false contracts at that capacity",
         f"{a['anomaly_recall_at_k']:.4f}"),
        ("feature build, month-end panel 2012-01..2019-12",
         f"{build_s:.0f} s" if build_s > 1 else "reused"),
        ("anomaly model per seed: fit, rules, out-of-fold scores, review, MLflow (median)",
         f"{np.median(anomaly_s):.0f} s"),
        ("credit model per seed: fit, selection, review, MLflow (median)",
         f"{np.median(credit_s):.0f} s"),
        ("peak memory (max RSS)", f"{peak_rss_mib() / 1024:.2f} GiB"),
    ]
    body = (
        "| figure | value |\n| --- | --- |\n"
        + "\n".join(f"| {name} | {value} |" for name, value in rows)
        + "\n\nCredit, test year (bootstrap: 1,000 replicates resampling whole entities; "
        "gain = LightGBM AUC − scorecard AUC on the same replicate; ceiling = AUC of the "
        "hidden integrity from `_truth/entities.parquet`):\n\n"
        + _credit_tables(fits, seeds)
        + "\n\nAnomaly, per fraud pattern and per family (all planted contracts of the test "
        "year, found by an audit or not): the share ranked within the top 2 % of all the test "
        "year's contracts (the planted share; a family is caught when at least half are), and "
        f"recall when each office reviews its top {k}. "
        "model = LightGBM; rules = the rules in force (`models/rules/contract.toml` until one "
        "is approved), ranked by the precision each rule's hits showed on the training period "
        "(shrunk toward the base rate); combined = the higher of that and the model's "
        "calibrated probability. Intervals: 95%, 1,000 bootstrap replicates resampling "
        f"planted schemes, first seed; over seeds: the {len(seeds)} training seeds "
        "(the rules have no seed).\n\n"
        + _detection_tables(anomalies, k)
        + "\n"
    )
    write_section("models", f"python -m benchmarks.bench_models --seeds {args.seeds}", body)
    print(body)


if __name__ == "__main__":
    main()
