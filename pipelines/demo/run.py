"""The main job on embedded defaults: market → ingest → features → models, in one command.

Wiring only: each step is the same flow or function a user runs on its own, so the demo
is also a smoke test of the whole chain on a fresh machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from features.point_in_time.build import month_ends
from features.settings import Settings
from features.synthetic.market import generate_market, write_market
from features.synthetic.market_check import calibration_table, format_table, shape_figures
from features.synthetic.spec import MarketSpec

if TYPE_CHECKING:
    from pipelines.training.run import TrainSummary

DEMO_REVIEWER = "demo 演示"
DEMO_NOTE = ("demo: first versions made champion by `techcredit demo` so that scoring runs; "
             "not a model review — a reviewer promotes after reading the review report")


def run_demo(settings: Settings, spec: MarketSpec, echo: Callable[[str], None]) -> bool:
    """Run every stage; returns False when a stage reports a problem (the CLI exits 1)."""
    from pipelines.ingest.gx_worker import close_shared_worker, shared_worker

    shared_worker()  # GX imports in its own process while the market is generated
    echo(f"1/8 生成合成市场 synthetic market {spec.first_year}-{spec.last_year}, "
         f"scale {spec.scale:g}, seed {spec.seed} → {settings.market_dir}")
    market = generate_market(spec)
    write_market(market, settings.market_dir)
    rows = calibration_table(market.tables, spec.scale)
    echo(format_table(rows, shape_figures(market.tables)))

    from pipelines.ingest.flow import ingest_paths
    from pipelines.ingest.report import fault_lines, summary
    from pipelines.ingest.verdict import verdict

    echo("\n2/8 导入与校验 ingest and validate (Great Expectations) → curated store")
    try:
        result = ingest_paths(sorted(settings.market_dir.glob("*.parquet")), settings=settings)
    finally:
        close_shared_worker()  # not needed by features and training
    echo(summary(result))
    for line in fault_lines(result):
        echo(line)
    # The synthetic market is clean and holds no row back on purpose: one held back is a
    # fault of the chain, and the demo ends with exit 1 as the command would (exit 3).
    ingested = verdict(result, allow_quarantine=False)
    if ingested.message:
        echo(ingested.message)

    from pipelines.build_features import build_features_flow

    dates = month_ends(pd.Timestamp(f"{spec.first_year + 1}-01-31"),
                       pd.Timestamp(f"{spec.last_year}-12-31"))
    echo(f"\n3/8 时点特征 point-in-time features: {len(dates)} month ends "
         f"{dates[0]:%Y-%m} … {dates[-1]:%Y-%m} → {settings.features_dir}")
    written = build_features_flow(dates, None, settings)
    echo(f"    {len(written)} feature and label files written")

    from pipelines.training.flows import train_panel_flow
    from pipelines.training.run import format_summary

    echo("\n4/8 训练与评审 train, review and register (MLflow) — new versions are 'challenger'")
    summaries = train_panel_flow(None)
    for s in summaries:
        echo(format_summary(s) + "\n")
    echo(f"MLflow store: {settings.tracking_uri}")
    echo("\n5/8 评分 score one institution with the champion models")
    for line in promote_first_versions(settings, summaries):
        echo(line)
    from sqlalchemy.exc import SQLAlchemyError

    from models.assessment.measures import AssessmentDataError
    from models.declared import DeclarationError
    from models.scoring import ScoringError
    from pipelines.assess import AssessError
    from pipelines.demo.assessment import demo_assessment
    from pipelines.demo.cases import demo_cases
    from pipelines.demo.people import ensure_people
    from pipelines.monitor import MonitorError, monitor_flow
    from pipelines.monitor import format_summary as format_monitor
    from pipelines.runtime import quiet_flow_failures
    from service.core.assessments.records import Conflict as AssessmentConflict
    from service.core.cases.records import Conflict as CaseConflict

    try:
        as_of = data_end(settings, pd.Timestamp(f"{spec.last_year}-12-31"))
        echo(demo_score(settings, as_of))
        with quiet_flow_failures():
            echo("\n" + demo_batch(settings, as_of))
        logins = ensure_people(settings)
        echo("\n6/8 失信案件 dishonesty cases: opened by warnings, one walked to repair")
        demo_cases(settings, as_of.date(), echo)
        echo(f"\n7/8 年度考核 annual assessment of {as_of.year}: drafted, published (four eyes), "
             "reported")
        demo_assessment(settings, as_of.year, echo)
        echo(f"\n8/8 模型监控 monitoring the credit model on {as_of:%Y-%m} against its training "
             "window (an act alert would retrain a challenger: techcredit monitor --retrain)")
        echo(format_monitor(monitor_flow(f"{as_of:%Y-%m}", False, None, settings)))
        echo(f"\n演示账号 demo logins (one per role): {logins.path}")
    except (ScoringError, DeclarationError, SQLAlchemyError, AssessError, AssessmentDataError,
            AssessmentConflict, CaseConflict, MonitorError) as e:
        echo(f"Error: {str(e).splitlines()[0]}")
        return False
    return all(r.ok for r in rows) and ingested.code == 0


def promote_first_versions(settings: Settings, summaries: list[TrainSummary]) -> list[str]:
    """Until a reviewer has promoted a champion, make the demo's versions champion under a
    recorded demo reviewer, so that scoring has something to load; the review history keeps
    the decision, and a real reviewer's promotion later replaces it."""
    from models.registry import CHAMPION, alias_version, promote, tracking_for

    tracking = tracking_for(settings)
    lines = []
    for s in summaries:
        current = alias_version(tracking, s.model_name, CHAMPION)
        if current is not None:
            lines.append(f"{s.model_name}: champion is v{current} (kept; promoted by a reviewer)")
            continue
        promote(tracking, s.model_name, s.version, reviewer=DEMO_REVIEWER, note=DEMO_NOTE,
                thresholds=settings.gate, override=True)
        lines.append(f"{s.model_name} v{s.version} → champion by {DEMO_REVIEWER} (demo only; "
                     f"see `techcredit reviews --model {s.model_name}`)")
    if len(lines) and any("demo only" in line for line in lines):
        lines.append("A reviewer replaces the demo champion after reading the review report:\n"
                     "  techcredit promote techcredit-credit VERSION --reviewer NAME --note TEXT")
    return lines


def data_end(settings: Settings, as_of: pd.Timestamp) -> pd.Timestamp:
    """``as_of``, or the last registration day of the store when that comes earlier."""
    from pipelines.store.curated import read_curated

    registered = pd.to_datetime(read_curated("contracts", settings)["registered_date"])
    return min(as_of, registered.max().normalize())


def demo_score(settings: Settings, as_of: pd.Timestamp) -> str:
    """The institution with most contracts in the year up to ``as_of``, scored at ``as_of``
    exactly as ``techcredit score`` scores it."""
    from pipelines.scoring.adhoc import format_entity, score_entity_at
    from pipelines.store.curated import read_curated

    contracts = read_curated("contracts", settings)
    registered = pd.to_datetime(contracts["registered_date"])
    recent = contracts.loc[registered > as_of - pd.DateOffset(years=1), "institution_id"]
    entity = str(recent.value_counts().index[0])
    command = f"$ techcredit score --entity {entity} --as-of {as_of:%Y-%m-%d}"
    return command + "\n" + format_entity(score_entity_at(settings, entity, as_of))


def demo_batch(settings: Settings, as_of: pd.Timestamp) -> str:
    """Every institution and broker scored at ``as_of`` into the operational database, with
    warnings and contract checks, so that the service has something to answer with."""
    from pipelines.scoring.batch import format_summary, score_batch_flow
    from service.core.db.engine import make_engine
    from service.core.db.migrate import upgrade

    engine = make_engine(settings.db_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    summary = score_batch_flow(f"{as_of:%Y-%m-%d}", None, settings)
    return (f"$ techcredit db upgrade && techcredit score --as-of {as_of:%Y-%m-%d}\n"
            + format_summary(summary))
