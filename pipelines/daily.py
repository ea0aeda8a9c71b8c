"""The scheduled flows of the stack: the daily run (每日运行), which the ``daily`` deployment
runs each morning, and the yearly assessment's draft (年度考核).

1. ingest the export files waiting in ``$TECHCREDIT_HOME/inbox`` (the ``ingest`` flow), then
   move each to ``inbox/done/<day>/`` — or ``inbox/rejected/<day>/`` when the whole file was
   refused — so no file is loaded twice and a refused one is kept for a person to look at;
2. when something was loaded: features for the latest month end the data has passed (once:
   an existing month end is not rebuilt) and batch scoring at the register's last day with the
   champions (skipped, with the reason, while there are none);
3. the case sweep, which is due by the calendar whatever arrived.

A day with nothing in the inbox does nothing but the sweep and says so. Each step is a thin
task or sub-flow over the functions the CLI uses; the heavy ones are imported inside the step,
so an empty day stays quick.

A schedule passes the same parameters every time, so :func:`yearly_assessment_flow` works out
the year (the one before the run's) that ``assess_flow`` needs as a parameter.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from features.settings import Settings, get_settings


@dataclass
class DailySummary:
    """What one day's run did, for the CLI and the flow run's result."""

    day: date
    ingested: list[str] = field(default_factory=list)  # files loaded (moved to done/)
    rejected: list[str] = field(default_factory=list)  # whole-file faults (moved to rejected/)
    features_as_of: date | None = None
    scored_as_of: date | None = None
    swept: int = 0
    notes: list[str] = field(default_factory=list)  # steps skipped, and why

    @property
    def lines(self) -> list[str]:
        out = [f"每日运行 daily run {self.day:%Y-%m-%d}"]
        if not self.ingested and not self.rejected:
            out.append("收件箱为空 nothing new in the inbox: no ingest, features or scoring")
        else:
            out.append(f"导入 ingested {len(self.ingested)} file(s), rejected "
                       f"{len(self.rejected)}")
        if self.features_as_of:
            out.append(f"特征 features built as of {self.features_as_of:%Y-%m-%d}")
        if self.scored_as_of:
            out.append(f"评分 batch scored as of {self.scored_as_of:%Y-%m-%d}")
        out += self.notes
        out.append(f"案件 sweep: {self.swept} case(s) removed at the end of publication")
        return out


def inbox_dir(settings: Settings) -> Path:
    return settings.home_dir / "inbox"


def waiting_files(settings: Settings) -> list[Path]:
    """Files delivered to the inbox, oldest name first; folders and dot-files (a transfer
    still being written) are not."""
    inbox = inbox_dir(settings)
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))


def move_done(settings: Settings, files: list[Path], day: date, folder: str) -> None:
    target = inbox_dir(settings) / folder / day.isoformat()
    target.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.move(f, target / f.name)


def latest_month_end(last_day: date) -> date:
    """The last month end on or before ``last_day``: the month the data has finished."""
    import pandas as pd

    return pd.offsets.MonthEnd().rollback(pd.Timestamp(last_day)).date()


@task(name="inbox", cache_policy=NO_CACHE)
def inbox_task(settings: Settings) -> list[Path]:
    return waiting_files(settings)


@task(name="file-away", cache_policy=NO_CACHE)
def file_away_task(settings: Settings, loaded: list[Path], refused: list[Path],
                   day: date) -> None:
    move_done(settings, loaded, day, "done")
    move_done(settings, refused, day, "rejected")


@task(name="last-day", cache_policy=NO_CACHE)
def last_day_task(settings: Settings) -> date:
    """The register's last day: the latest registration, report, confirmation or change."""
    from features.point_in_time.history import prepare
    from pipelines.scoring.adhoc import read_store

    return date.fromordinal(date(1970, 1, 1).toordinal()
                            + prepare(read_store(settings, None)).last_day)


@task(name="champions", cache_policy=NO_CACHE)
def champions_task(settings: Settings) -> str | None:
    """Why batch scoring cannot run (no champion yet, registry unreachable), or None."""
    from models.loading import RegistryUnavailable, resolve
    from models.registry import ANOMALY_MODEL, CHAMPION, CREDIT_MODEL, tracking_for
    from models.scoring import ScoringError

    try:
        for name in (CREDIT_MODEL, ANOMALY_MODEL):
            resolve(tracking_for(settings), name, CHAMPION, None)
    except (ScoringError, RegistryUnavailable) as e:
        return str(e)
    return None


@task(name="sweep", cache_policy=NO_CACHE)
def sweep_task(settings: Settings, day: date) -> int:
    from service.core.cases.calendar import WorkCalendar
    from service.core.cases.policy import CasePolicy
    from service.core.cases.service import sweep
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.migrate import require_migrated
    from service.core.db.types import utcnow

    engine = make_engine(settings.db_url)
    try:
        require_migrated(engine)
        return len(sweep(session_factory(engine), day, utcnow(),
                         CasePolicy.from_settings(settings), WorkCalendar()))
    finally:
        engine.dispose()


def _ingest(settings: Settings, files: list[Path], day: date) -> tuple[list[Path], list[Path]]:
    """Load the files (the ``ingest`` flow, as a sub-flow); (loaded, refused) files."""
    from pipelines.ingest.flow import ingest_flow

    result = ingest_flow([str(f) for f in files], home=str(settings.home_dir),
                         today=day.isoformat())
    faulted = {Path(r.path) for r in result.files if r.fault}
    return [f for f in files if f not in faulted], [f for f in files if f in faulted]


def _features_and_scores(settings: Settings, summary: DailySummary) -> None:
    import pandas as pd

    from pipelines.build_features import build_features_flow, feature_path
    from pipelines.scoring.batch import score_batch_flow

    last = last_day_task(settings)
    month_end = latest_month_end(last)
    if feature_path(settings, "institution", pd.Timestamp(month_end)).exists():
        summary.notes.append(f"特征 features as of {month_end:%Y-%m-%d} exist: not rebuilt")
    else:
        build_features_flow([month_end.isoformat()], None, settings)
        summary.features_as_of = month_end
    problem = champions_task(settings)
    if problem:
        summary.notes.append(f"评分 no batch scoring: {problem}")
    else:
        score_batch_flow(last.isoformat(), None, settings)
        summary.scored_as_of = last


@flow(name="daily")
def daily_flow(day: str | None = None) -> DailySummary:
    """Inbox ingest, month-end features, batch scoring and the case sweep for one day
    (每日运行); ``day`` YYYY-MM-DD, default today in China."""
    from service.core.cases.calendar import china_day
    from service.core.db.types import utcnow

    settings = get_settings()
    today = date.fromisoformat(day) if day else china_day(utcnow())
    summary = DailySummary(today)
    files = inbox_task(settings)
    if files:
        loaded, refused = _ingest(settings, files, today)
        file_away_task(settings, loaded, refused, today)
        summary.ingested = [f.name for f in loaded]
        summary.rejected = [f.name for f in refused]
        if loaded:
            _features_and_scores(settings, summary)
    summary.swept = sweep_task(settings, today)
    return summary


@flow(name="yearly-assessment")
def yearly_assessment_flow(by: str, year: int | None = None) -> str:
    """Draft the annual assessment of ``year`` (default: last calendar year in China) as the
    assessor ``by``; another assessor reviews and publishes it (年度考核草稿)."""
    from pipelines.assess import assess_flow, format_summary
    from service.core.cases.calendar import china_day
    from service.core.db.types import utcnow

    return format_summary(assess_flow(year or china_day(utcnow()).year - 1, by))
