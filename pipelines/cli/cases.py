"""``techcredit cases``: the steps of the dishonesty workflow nobody clicks — the daily sweep
that ends publication at its maximum, and the list exported for other agencies.

Case work itself (investigate, determine, notify, …) is done by people through the API and the
console, where the four-eyes rule knows who they are. ``--json`` prints what each command did
or lists as typed JSON: the cases the sweep moved, the list's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@dataclass(frozen=True)
class Removed:
    """A case the sweep moved off the list (移出): what it was, and its state now."""

    case_id: int
    subject_kind: str
    subject_id: str
    subject_name: str | None
    severity: str | None
    listed_on: date | None
    publication_ends: date | None
    state: str


@dataclass(frozen=True)
class Sweep:
    today: date
    removed: list[Removed]

cases_app = typer.Typer(help="失信案件 dishonesty cases: sweep, export", no_args_is_help=True)


def _today(day: str | None) -> date:
    from service.core.cases.calendar import china_day
    from service.core.db.types import utcnow

    if day is None:
        return china_day(utcnow())
    try:
        return date.fromisoformat(day)
    except ValueError:
        typer.echo(f"Error: --today {day!r} is not a date YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None


@cases_app.command()
def sweep(today: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today in "
                                                         "China")] = None,
          as_json: JsonFlag = False) -> None:
    """End publication of every listed case at its maximum period (公示期届满移出)."""
    from features.settings import get_settings
    from service.core.cases.calendar import WorkCalendar
    from service.core.cases.policy import CasePolicy
    from service.core.cases.service import sweep as run_sweep
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.migrate import NotMigrated, require_migrated
    from service.core.db.types import utcnow

    settings = get_settings()
    day = _today(today)
    engine = make_engine(settings.db_url)
    try:
        require_migrated(engine)
        done = run_sweep(session_factory(engine), day, utcnow(),
                         CasePolicy.from_settings(settings), WorkCalendar())
    except NotMigrated as e:
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    swept = Sweep(day, [Removed(o.case.id, o.case.subject_kind, o.case.subject_id,
                                o.case.subject_name, o.case.severity, o.case.listed_on,
                                o.case.publication_ends, o.case.state) for o in done])
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(swept))
        return
    typer.echo(f"移出 removed at the end of publication: {len(swept.removed)} case(s) "
               + " ".join(str(r.case_id) for r in swept.removed))


@cases_app.command()
def export(
    out: Annotated[Path | None, typer.Option(help="file to write; default: stdout")] = None,
    fmt: Annotated[Literal["csv", "json"], typer.Option("--format")] = "csv",
    today: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the same as --format json")] = False,
) -> None:
    """The published dishonesty list (失信名单) for other agencies, CSV or JSON."""
    if as_json:
        fmt = "json"
    from features.settings import get_settings
    from service.core.cases.lists import dishonesty_list, to_csv, to_json
    from service.core.db.engine import make_engine, session_factory

    engine = make_engine(get_settings().db_url)
    try:
        with session_factory(engine)() as session:
            entries = dishonesty_list(session, _today(today))
    finally:
        engine.dispose()
    text = to_csv(entries) if fmt == "csv" else to_json(entries)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(entries)} entries → {out}")
