"""``techcredit ingest``: validate and load export files, or replay the quarantine.

Exit codes (``pipelines.ingest.verdict``): 0 loaded; 1 a file was refused whole (named on
stderr); 2 usage; 3 rows were held back in quarantine, unless ``--allow-quarantine``. A replay
holds nothing new back; it lists what it could not release and why.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from features.ingest.outcome import IngestResult
    from pipelines.ingest.unreleased import Unreleased
    from pipelines.ingest.verdict import Verdict


def mount(app: typer.Typer) -> None:
    app.command()(ingest)


def _exported_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"--exported-at must be ISO 8601, e.g. 2026-11-01T08:00:00+08:00, got {text!r}"
        ) from None


def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="export files: Parquet or CSV (UTF-8/GB18030)")
    ] = None,
    table: Annotated[
        str | None, typer.Option(help="table of every file (default: from file name)")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="CSV encoding (default: detect UTF-8/GB18030)")
    ] = None,
    replay: Annotated[
        bool, typer.Option(help="no files: re-check quarantined rows (of --table, or all) and "
                                "say what stays and why")
    ] = False,
    exported_at: Annotated[
        str | None, typer.Option(help="export time of the files, ISO 8601 (default: now); "
                                      "orders versions of equal date")
    ] = None,
    allow_quarantine: Annotated[
        bool, typer.Option(help="exit 0 even when rows were held back in quarantine "
                                "(default: exit 3)")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the run as JSON (the report's figures, the "
                                          "held-back classes, what a replay left, the exit code)")
    ] = False,
) -> None:
    """Validate and load exports into the curated store (数据导入与校验).

    Every run also re-checks quarantined rows whose only fault was a reference to a record
    that had not arrived, and loads those that now resolve. Rows held back are counted per
    reason class; the exit code is 3 when there are any, unless --allow-quarantine.
    """
    if not paths and not replay:
        raise typer.BadParameter("give export files, or --replay to re-check the quarantine")
    if paths and replay:
        raise typer.BadParameter("--replay takes no files: every run with files replays too")
    when = _exported_at(exported_at)
    from pipelines.runtime import configure

    settings = configure()  # before Prefect is imported: it reads PREFECT_HOME then
    from pipelines.ingest.gx_worker import close_shared_worker, shared_worker

    shared_worker()  # first: GX imports in its process while Prefect imports and starts
    try:
        from pipelines.ingest.flow import ingest_paths

        result = ingest_paths(paths or [], table=table, encoding=encoding, exported_at=when)
    finally:
        close_shared_worker()  # also on Ctrl-C: queued checks are cancelled, not waited for
    from pipelines.ingest.report import fault_lines, summary
    from pipelines.ingest.unreleased import unreleased, unreleased_lines
    from pipelines.ingest.verdict import verdict

    left = unreleased(settings, table) if replay else None
    ended = verdict(result, allow_quarantine)
    if as_json:
        typer.echo(ingest_json(result, left, ended))
    else:
        typer.echo(summary(result))
        if left is not None:
            typer.echo("\n".join(unreleased_lines(left)))
    for line in fault_lines(result):
        typer.echo(line, err=True)
    if ended.message:
        typer.echo(ended.message, err=True)
    if ended.code:
        raise typer.Exit(code=ended.code)


def ingest_json(result: IngestResult, left: list[Unreleased] | None, ended: Verdict) -> str:
    """The run as the JSON report holds it, plus what a replay left open (null for a run with
    files) and the exit code."""
    from pipelines.cli.as_json import dumps
    from pipelines.ingest.report import to_json

    return dumps({**to_json(result),
                  "unreleased": None if left is None else [asdict(u) for u in left],
                  "exit_code": ended.code})
