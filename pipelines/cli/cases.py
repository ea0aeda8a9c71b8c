"""``techcredit cases``: the steps of the dishonesty workflow nobody clicks — the daily sweep
that ends publication at its maximum, and the list exported for other agencies.

Case work itself (investigate, determine, notify, …) is done by people through the API and the
console, where the four-eyes rule knows who they are.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

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
                                                         "China")] = None) -> None:
    """End publication of every listed case at its maximum period (公示期届满移出)."""
    from features.settings import get_settings
    from service.core.cases.calendar import WorkCalendar
    from service.core.cases.policy import CasePolicy
    from service.core.cases.service import sweep as run_sweep
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.migrate import NotMigrated, require_migrated
    from service.core.db.types import utcnow

    settings = get_settings()
    engine = make_engine(settings.db_url)
    try:
        require_migrated(engine)
        done = run_sweep(session_factory(engine), _today(today), utcnow(),
                         CasePolicy.from_settings(settings), WorkCalendar())
    except NotMigrated as e:
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"移出 removed at the end of publication: {len(done)} case(s) "
               + " ".join(str(o.case.id) for o in done))


@cases_app.command()
def export(
    out: Annotated[Path | None, typer.Option(help="file to write; default: stdout")] = None,
    fmt: Annotated[Literal["csv", "json"], typer.Option("--format")] = "csv",
    today: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today")] = None,
) -> None:
    """The published dishonesty list (失信名单) for other agencies, CSV or JSON."""
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
