"""The ``ingest`` Prefect flow: export files → curated store, quarantine and a validation report.

The flow is thin wiring around :class:`pipelines.ingest.run.IngestRun`, which holds all the
logic and is tested without Prefect: one task per table, in ``LOAD_ORDER``, stages it; a
task publishes every staged table once Great Expectations has agreed; a last one saves the
new version's contract ledger snapshot (:mod:`pipelines.store.ledger_snapshots`).

Call :func:`ingest_paths` from other code (``techcredit demo`` does); it returns an
:class:`~features.ingest.outcome.IngestResult` whose ``ok`` is False when a file had a
whole-file fault.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE

from features.ingest.outcome import IngestResult, TableReport
from features.settings import Settings, get_settings
from pipelines.ingest.gx_worker import shared_worker
from pipelines.ingest.report import write_reports
from pipelines.ingest.run import IngestRun
from pipelines.runtime import configure
from pipelines.store.ledger_snapshots import save_ledger_snapshot

log = logging.getLogger("techcredit.ingest")


@task(name="stage-table", cache_policy=NONE)
def stage_table(
    run: IngestRun, table_name: str, paths: list[Path], encoding: str | None
) -> TableReport:
    """Validate, quarantine and merge one table's files into its staged next version."""
    return run.stage_table(table_name, paths, encoding)


@task(name="publish", cache_policy=NONE)
def publish(run: IngestRun) -> None:
    """Swap in every staged table whose files Great Expectations agreed with."""
    run.publish()


@task(name="ledger-snapshot", cache_policy=NONE)
def ledger_snapshot(settings: Settings) -> str | None:
    """The new version's contract ledger snapshot, so that no reader replays the register;
    a failure is reported, not raised: the version is published, and readers build."""
    try:
        got = save_ledger_snapshot(settings)
    except Exception as e:
        log.exception("the contract ledger's snapshot was not saved")
        return f"failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    return None if got is None else f"{got.how} in {got.seconds:.1f} s"


@flow(name="ingest", validate_parameters=False, log_prints=False)
def ingest_flow(paths: list[str], table: str | None = None, encoding: str | None = None,
                home: str | None = None, today: str | None = None,
                exported_at: str | None = None) -> IngestResult:
    settings = Settings(home=Path(home)) if home else get_settings()
    with IngestRun(
        settings,
        date.fromisoformat(today) if today else None,
        worker=shared_worker(),
        exported_at=datetime.fromisoformat(exported_at) if exported_at else None,
    ) as run:
        for name, files in run.plan([Path(p) for p in paths], table).items():
            stage_table(run, name, files, encoding)
        publish(run)
    run.result.ledger = ledger_snapshot(settings)
    run.result.finished = datetime.now(UTC).isoformat(timespec="seconds")
    write_reports(run.result, settings)
    return run.result


def ingest_paths(
    paths: list[Path | str],
    table: str | None = None,
    settings: Settings | None = None,
    encoding: str | None = None,
    today: date | None = None,
    exported_at: datetime | None = None,
) -> IngestResult:
    """Ingest export files into the curated store (one Prefect flow run).

    ``paths`` may mix tables; each file's table comes from its name unless ``table`` is given.
    Whole-file faults do not raise: they are in ``result.files[i].fault`` and make
    ``result.ok`` False; the other files are still loaded. Every run also re-checks the open
    quarantine rows whose only fault was a missing reference (no paths: a replay alone).
    ``exported_at`` is the files' export time, which orders versions of equal date.
    """
    s = configure(settings)
    shared_worker()  # GX imports in its process while Prefect starts its server for the flow
    return ingest_flow(
        [str(p) for p in paths],
        table,
        encoding,
        str(s.home_dir),
        today.isoformat() if today else None,
        exported_at.isoformat() if exported_at else None,
    )
