"""``techcredit up | down | status | daily``: the long-lived stack on loopback and the daily run.

While the stack runs, every other command runs its flows on the stack's Prefect server (see
:func:`pipelines.stack.processes.prefect_api_url`). Every refusal — a port in use, a server that
does not start, a failed deploy — is one line on stderr naming the log to read, and exit code 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from pipelines.stack.processes import StackInfo, StackState


def mount(app: typer.Typer) -> None:
    for command in (up, down, status, daily):
        app.command()(command)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _addresses(info: StackInfo, ready: str) -> None:
    from pipelines.runtime import configure
    from pipelines.stack.processes import login_lines, run_dir

    settings = configure()
    typer.echo(f"techcredit stack (常驻服务) since {info.started}, data in {info.home}")
    typer.echo(f"  console     {info.api}/console")
    typer.echo(f"  API         {info.api}/openapi.json   /readyz: {ready}")
    typer.echo(f"  Prefect UI  {info.prefect_ui}   (API {info.prefect_api}; "
               "CLI commands run their flows there)")
    typer.echo(f"  logs        {run_dir(settings)}/*.log")
    typer.echo("logins (name, role, token — paste the token into the console's login):")
    for line in login_lines(settings):
        typer.echo(line)
    typer.echo("stop with: techcredit down")


def _clean_stale(state: StackState) -> None:
    from pipelines.runtime import configure
    from pipelines.stack.processes import stop

    typer.echo(f"a previous stack is gone ({', '.join(state.stopped)} not running): "
               "stopping what is left and removing its stack.json")
    stop(configure())


def up(
    port: Annotated[int | None, typer.Option(help="API and console port; default from "
                                                  "settings (8000)")] = None,
    prefect_port: Annotated[int, typer.Option(help="Prefect server and UI port")] = 4200,
) -> None:
    """Start the stack on loopback (启动常驻服务): Prefect server, worker, deployments, API."""
    from pipelines.runtime import configure
    from pipelines.stack.processes import StackError, read_state
    from pipelines.stack.start import readiness, start

    settings = configure()
    state = read_state(settings)
    if state.up and state.info is not None:
        typer.echo("the stack is already running")
        _addresses(state.info, readiness(state.info))
        return
    if state.stale:
        _clean_stale(state)
    try:
        info = start(settings, port or settings.api.port, prefect_port, typer.echo)
    except StackError as e:
        _fail(str(e))
    _addresses(info, readiness(info))


def down() -> None:
    """Stop the stack (停止常驻服务): every process it started, then its stack.json."""
    from pipelines.runtime import configure
    from pipelines.stack.processes import stop

    state = stop(configure())
    if state.info is None:
        typer.echo("no stack is running here")
    elif state.stale:
        typer.echo(f"stopped a stack that was partly gone ({', '.join(state.stopped)}); "
                   "removed its stack.json")
    else:
        typer.echo(f"stopped {', '.join(state.running)}")


def status() -> None:
    """Say whether the stack runs and where (常驻服务状态); exit 1 when it does not."""
    from pipelines.runtime import configure
    from pipelines.stack.processes import read_state
    from pipelines.stack.start import readiness

    state = read_state(configure())
    if state.info is None:
        typer.echo("no stack is running (start it with: techcredit up)")
        raise typer.Exit(1)
    if state.stale:
        typer.echo(f"the stack is partly gone: not running {', '.join(state.stopped)}; "
                   f"running {', '.join(state.running) or 'nothing'} — "
                   "run techcredit down, then techcredit up")
        raise typer.Exit(1)
    for p in state.info.processes:
        typer.echo(f"  {p.name:<15} pid {p.pid:<8} log {p.log}")
    _addresses(state.info, readiness(state.info))


def daily(
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today in China")] = None,
) -> None:
    """Run the daily pipeline once (每日运行): inbox ingest, month-end features, batch scoring,
    case sweep — what the ``daily`` deployment runs each morning."""
    from datetime import date

    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError:
            _fail(f"--day {day!r} is not a date YYYY-MM-DD")
    from pipelines.runtime import configure

    configure()
    from pipelines.daily import daily_flow

    for line in daily_flow(day).lines:
        typer.echo(line)
