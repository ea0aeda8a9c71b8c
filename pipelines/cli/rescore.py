"""``techcredit rescore``: score the entities queued by new evidence, as of its day.

Heavy imports happen inside the command; a refusal (an unmigrated or unreachable database, a
store without data, no champion) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer


def mount(app: typer.Typer) -> None:
    app.command()(rescore)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def rescore(
    source: Annotated[Path | None, typer.Option(
        help="folder of standard Parquet tables; default: the curated store")] = None,
    alias: Annotated[str, typer.Option(help="registered alias to score with")] = "champion",
) -> None:
    """Re-score every institution and broker that new evidence queued (事件驱动重评): a
    contract it handled checked red, a related entity listed. Each is scored as of the
    evidence's day with the registration-time checks the store does not hold yet, warned by
    the entity rules in force, and the request records the score that answered it. The stack
    runs this every ten minutes (prefect.yaml, ``event-rescoring``)."""
    if source is not None and not source.is_dir():
        _fail(f"--source {source} is not a folder")
    from pipelines.runtime import configure, quiet_flow_failures

    settings = configure()
    from sqlalchemy.exc import SQLAlchemyError

    from models.declared import DeclarationError
    from models.scoring import ScoringError
    from pipelines.scoring.events import format_rescore, rescore_flow
    from service.core.db.migrate import NotMigrated

    try:
        with quiet_flow_failures():
            summary = rescore_flow(source, settings, alias)
    except (ScoringError, DeclarationError, NotMigrated) as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        _fail(f"cannot use the database: {cause}")
    typer.echo(format_rescore(summary))
