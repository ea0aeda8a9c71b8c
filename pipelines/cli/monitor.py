"""``techcredit monitor``: one month of the champion credit model against its training window.

Heavy imports (Prefect, MLflow) happen inside the command; every refusal — a bad month, a
month outside the data, no champion, an unmigrated database — is one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer


def mount(app: typer.Typer) -> None:
    app.command()(monitor)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def monitor(
    month: Annotated[str | None, typer.Option(
        help="the month to monitor, YYYY-MM; default: last calendar month")] = None,
    retrain: Annotated[bool | None, typer.Option(
        "--retrain/--no-retrain",
        help="an act alert retrains and registers a challenger; default from settings "
             "(TECHCREDIT_MONITOR_RETRAIN, on)")] = None,
    source: Annotated[Path | None, typer.Option(
        help="folder of standard Parquet tables; default: the curated store")] = None,
) -> None:
    """Monitor the champion credit model on a month (模型监控): PSI, KS and Jensen–Shannon of
    the score and top features against the training window, alerts at PSI 0.1 (watch) and
    0.25 (act), calibration by grade once labels exist. An act alert retrains a challenger
    for review; monitoring never promotes."""
    if source is not None and not source.is_dir():
        _fail(f"--source {source} is not a folder")
    from pipelines.runtime import configure, quiet_flow_failures

    settings = configure()
    from sqlalchemy.exc import SQLAlchemyError

    from models.scoring import ScoringError
    from pipelines.monitor import MonitorError, format_summary, monitor_flow, parse_month
    from service.core.db.engine import make_engine
    from service.core.db.migrate import NotMigrated, require_migrated

    try:
        if month is not None:
            parse_month(month, date.today())
        engine = make_engine(settings.db_url)
        try:
            require_migrated(engine)
        finally:
            engine.dispose()
        with quiet_flow_failures():
            summary = monitor_flow(month, retrain, source, settings)
    except (MonitorError, ScoringError, NotMigrated) as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        _fail(f"cannot use the database: {cause}")
    typer.echo(format_summary(summary))
