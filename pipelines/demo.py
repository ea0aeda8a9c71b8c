"""The main job on embedded defaults: market → ingest → features → models, in one command.

Wiring only: each step is the same flow or function a user runs on its own, so the demo
is also a smoke test of the whole chain on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from features.point_in_time.build import month_ends
from features.settings import Settings
from features.synthetic.market import generate_market, write_market
from features.synthetic.market_check import calibration_table, format_table, shape_figures
from features.synthetic.spec import MarketSpec


def run_demo(settings: Settings, spec: MarketSpec, echo: Callable[[str], None]) -> bool:
    """Run every stage; returns False when a stage reports a problem (the CLI exits 1)."""
    from pipelines.gx_worker import close_shared_worker, shared_worker

    shared_worker()  # GX imports in its own process while the market is generated
    echo(f"1/4 生成合成市场 synthetic market {spec.first_year}-{spec.last_year}, "
         f"scale {spec.scale:g}, seed {spec.seed} → {settings.market_dir}")
    market = generate_market(spec)
    write_market(market, settings.market_dir)
    rows = calibration_table(market.tables, spec.scale)
    echo(format_table(rows, shape_figures(market.tables)))

    from pipelines.ingest import ingest_paths
    from pipelines.ingest_report import fault_lines, summary

    echo("\n2/4 导入与校验 ingest and validate (Great Expectations) → curated store")
    try:
        result = ingest_paths(sorted(settings.market_dir.glob("*.parquet")), settings=settings)
    finally:
        close_shared_worker()  # not needed by features and training
    echo(summary(result))
    for line in fault_lines(result):
        echo(line)

    from pipelines.build_features import build_features_flow

    dates = month_ends(pd.Timestamp(f"{spec.first_year + 1}-01-31"),
                       pd.Timestamp(f"{spec.last_year}-12-31"))
    echo(f"\n3/4 时点特征 point-in-time features: {len(dates)} month ends "
         f"{dates[0]:%Y-%m} … {dates[-1]:%Y-%m} → {settings.features_dir}")
    written = build_features_flow(dates, None, settings)
    echo(f"    {len(written)} feature and label files written")

    from pipelines.train import train_panel_flow
    from pipelines.training import format_summary

    echo("\n4/4 训练与评审 train, review and register (MLflow) — new versions are 'challenger'")
    for s in train_panel_flow(None):
        echo(format_summary(s) + "\n")
    echo("A reviewer promotes a version after reading its review report:\n"
         "  techcredit promote techcredit-credit 1 --reviewer NAME --note TEXT\n"
         f"MLflow store: {settings.tracking_uri}")
    return all(r.ok for r in rows) and result.ok
