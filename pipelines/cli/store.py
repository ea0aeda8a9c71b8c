"""``techcredit store …`` and ``techcredit quarantine …``: what an operator does with the
curated store's versions and with the rows ingest held back.

The quarantine commands read the queue as :class:`features.ingest.queued.QueueRow` records;
``--json`` prints those records (typed: a line number, a UTC time, a flag), the text the same
fields as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

    from features.ingest.queued import QueueRow

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON (typed, every field)")]

store_app = typer.Typer(help="curated store versions: list, roll back (数据版本)",
                        no_args_is_help=True)
quarantine_app = typer.Typer(help="rows held back by ingest: list, show, reject (隔离区)",
                             no_args_is_help=True)


@store_app.command("versions")
def versions() -> None:
    """List the kept store versions, newest first (the current one marked *)."""
    from pipelines.runtime import configure
    from pipelines.store import curated as store
    from pipelines.store.quarantine import PREFIX

    s = configure()
    current = store.current_manifest(s)
    kept = store.manifests(s)
    if not kept:
        typer.echo("the store is empty: nothing published yet")
        return
    for m in kept:
        mark = "*" if m.sequence == current.sequence else " "
        rows = ", ".join(f"{t} {n:,}" for t, n in m.rows.items() if not t.startswith(PREFIX))
        typer.echo(f"{mark} {m.sequence:>4}  {m.run_id:<28} {m.published_at}  {m.note}")
        if rows:
            typer.echo(f"        {rows}")


@store_app.command("rollback")
def rollback(
    run: Annotated[str, typer.Argument(help="run id of a kept version (see: store versions)")],
) -> None:
    """Make the store as a kept run left it current again (recorded as a new version)."""
    from pipelines.runtime import configure
    from pipelines.store import curated as store

    s = configure()
    try:
        m = store.rollback(run, s)
    except store.RollbackError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"store version {m.sequence}: {m.note}")


@dataclass(frozen=True)
class Listing:
    """What ``quarantine list`` found: the rows that match, the first ``limit`` of them."""

    state: str
    table: str | None
    run: str | None
    total: int  # rows that match
    limit: int
    rows: list[QueueRow]


@quarantine_app.command("list")
def list_rows(
    table: Annotated[str | None, typer.Option(help="one table (default: all)")] = None,
    state: Annotated[str, typer.Option(help="open, released, rejected or all")] = "open",
    run: Annotated[str | None, typer.Option(help="rows quarantined by this run")] = None,
    limit: Annotated[int, typer.Option(help="rows to print at most")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Quarantined rows with their reasons (row id, table, source file and line)."""
    from features.ingest.queued import typed_rows

    frame = _queue(table, state, run)
    found = Listing(state, table, run, len(frame), limit, typed_rows(frame.head(limit)))
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(found))
        return
    typer.echo(f"{found.total:,} rows ({state})")
    for r in found.rows:
        typer.echo(f"{r.row_id:<24} {r.table:<20} {r.state:<9} {r.source_file}:{r.source_line}")
        typer.echo(f"    {r.reason}")
    if found.total > limit:
        typer.echo(f"... {found.total - limit:,} more (--limit)")


def _shown(value: object) -> str:
    """A field as ``show`` has always printed it (a missing one as nan)."""
    return "nan" if value is None else str(value)


@quarantine_app.command("show")
def show(row_id: Annotated[str, typer.Argument(help="row id from `quarantine list`")],
         as_json: JsonFlag = False) -> None:
    """One quarantined row: its fields as the export had them, reason and state history."""
    from features.ingest.queued import QueueRow

    frame = _queue(None, "all", None)
    hit = frame[frame["row_id"] == row_id]
    if hit.empty:
        typer.echo(f"error: no quarantined row with id {row_id}", err=True)
        raise typer.Exit(2)
    r = QueueRow.from_record(hit.iloc[0])
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(r))
        return
    for k, v in (("row_id", r.row_id), ("table", r.table), ("source_file", r.source_file),
                 ("source_line", r.source_line), ("exported_at", r.exported_at),
                 ("run_id", r.run_id), ("state", r.state), ("state_at", r.state_at),
                 ("state_by", r.state_by), ("state_note", r.state_note),
                 ("loaded_run", r.loaded_run), ("rules", ";".join(r.rules)),
                 ("reason", r.reason)):
        typer.echo(f"{k:<12} {_shown(v)}")
    for k, v in r.fields.items():
        typer.echo(f"  {k:<20} {v}")
    if r.raw_text is not None:
        typer.echo(f"  raw line: {r.raw_text}")


@dataclass(frozen=True)
class Rejection:
    rows: int
    by: str
    note: str
    row_ids: list[str]


@quarantine_app.command("reject")
def reject(
    row_ids: Annotated[list[str], typer.Argument(help="row ids to close")],
    by: Annotated[str, typer.Option(help="operator's name")],
    note: Annotated[str, typer.Option(help="why the rows will never load")],
    as_json: JsonFlag = False,
) -> None:
    """Close open rows for good (kept, with who, when and why; never replayed)."""
    from pipelines.runtime import configure
    from pipelines.store.quarantine import QuarantineError
    from pipelines.store.quarantine import reject as reject_rows

    s = configure()
    try:
        n = reject_rows(s, row_ids, by=by, note=note)
    except QuarantineError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    done = Rejection(n, by, note, list(row_ids))
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(done))
        return
    typer.echo(f"{done.rows} rows rejected by {done.by}")


def _queue(table: str | None, state: str, run: str | None) -> pd.DataFrame:
    from features.ingest.quarantine import STATES
    from features.standard.tables import TABLES
    from pipelines.runtime import configure
    from pipelines.store.quarantine import read_all

    if table is not None and table not in TABLES:
        raise typer.BadParameter(f"unknown table {table!r}; known: {', '.join(TABLES)}")
    if state != "all" and state not in STATES:
        raise typer.BadParameter(f"--state must be one of {', '.join(STATES)} or all")
    frame = read_all(configure(), table)
    if state != "all":
        frame = frame[frame["state"] == state]
    if run is not None:
        frame = frame[frame["run_id"] == run]
    return frame.reset_index(drop=True)
