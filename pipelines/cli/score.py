"""``techcredit score``: one institution or broker at a date, or a file of contracts.

Heavy imports (MLflow, LightGBM) happen inside the command; every input problem is one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def score(
    entity: Annotated[
        str | None, typer.Option(help="institution or broker id, e.g. I000001 (with --as-of)")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="as-of date YYYY-MM-DD")] = None,
    contract: Annotated[
        Path | None,
        typer.Option(help="CSV or JSON file of contracts in the standard's columns"),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(help="folder of standard Parquet tables; default: the curated store"),
    ] = None,
    alias: Annotated[str, typer.Option(help="registered alias to score with")] = "champion",
    version: Annotated[
        str | None, typer.Option(help="a model version instead of the alias")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON at full precision (entity, contracts, "
                                          "or the batch run's summary)")
    ] = False,
    backfill: Annotated[bool, typer.Option(
        help="batch: a backfill of a past date, scores only (also any as-of before the latest "
             "scored one)")] = False,
    warnings: Annotated[bool | None, typer.Option(
        "--warnings/--no-warnings", help="batch: write risk warnings and contract checks "
        "(default: yes, except for a backfill)", show_default=False)] = None,
    cases: Annotated[bool | None, typer.Option(
        "--cases/--no-cases", help="batch: open cases from the warnings (default: yes, except "
        "for a backfill)", show_default=False)] = None,
) -> None:
    """Score an entity at a date, check contracts, or score everyone at a date into the
    database (主体信用评分、合同异常核查、批量评分与预警).

    Prints score, grade, probability and reasons in Chinese and English, with the model
    versions and the alias used; a contract gets what the API's check answers (probability,
    tier, reasons, rule hits). With only --as-of, runs the batch flow: every active
    institution and broker, risk warnings and the contracts registered since the last run;
    a backfill (a date before the latest scored one, or --backfill) writes scores only unless
    --warnings and --cases ask for more.
    """
    if entity is None and contract is None and as_of is not None:
        if version is not None:
            raise _fail("batch scoring uses an alias (--alias, default champion), not --version")
        if source is not None and not source.is_dir():
            raise _fail(f"--source {source} is not a folder")
        _batch(as_of, source, alias, (backfill, warnings, cases), as_json)
        return
    if backfill or warnings is not None or cases is not None:
        raise _fail("--backfill, --warnings and --cases are for batch scoring (--as-of alone)")
    if (entity is None) == (contract is None):
        raise _fail("give --entity ID --as-of DATE, --contract FILE, or --as-of DATE alone "
                    "(batch scoring of every institution and broker)")
    if entity is not None and as_of is None:
        raise _fail("--entity needs --as-of YYYY-MM-DD")
    if contract is not None and not contract.is_file():
        raise _fail(f"--contract {contract} is not a file")
    if source is not None and not source.is_dir():
        raise _fail(f"--source {source} is not a folder")
    from pipelines.runtime import configure

    settings = configure()
    from models.scoring import ScoringError
    from pipelines.scoring.adhoc import (
        check_contract_file,
        contracts_json,
        entity_json,
        format_contract,
        format_entity,
        score_entity_at,
    )

    try:
        if entity is not None:
            result = score_entity_at(settings, entity.strip(), str(as_of), source, alias, version)
            typer.echo(entity_json(result) if as_json else format_entity(result))
            return
        checks = check_contract_file(settings, contract, source, alias, version)
        typer.echo(contracts_json(checks) if as_json else
                   "\n".join(format_contract(c) for c in checks))
    except ScoringError as e:
        raise _fail(str(e)) from None


def _batch(as_of: str, source: Path | None, alias: str,
           switches: tuple[bool, bool | None, bool | None], as_json: bool = False) -> None:
    """The batch flow, after the checks that need no data (date, rules file, database), so
    that a refusal is one line, not a failed flow run's traceback."""
    from datetime import date

    from pipelines.runtime import configure, quiet_flow_failures

    settings = configure()
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from models.declared import DeclarationError
    from models.rules.kinds import ENTITY
    from models.rules.reviews import in_force
    from models.scoring import ScoringError
    from pipelines.scoring.batch import batch_json, format_summary, score_batch_flow
    from pipelines.scoring.side_effects import SideEffectsRefused, check_switches
    from service.core.db.engine import database_url, display_url, make_engine
    from service.core.db.migrate import NotMigrated, require_migrated

    try:
        date.fromisoformat(as_of)
    except ValueError:
        raise _fail(f"--as-of must look like 2020-06-30, got {as_of!r}") from None
    backfill, warnings, cases = switches
    try:
        check_switches(warnings, cases)
        in_force(settings, ENTITY)
        url = display_url(database_url(settings.db_url))
        engine = make_engine(settings.db_url)
        try:
            require_migrated(engine)
        finally:
            engine.dispose()
        with quiet_flow_failures():
            summary = score_batch_flow(as_of, source, settings, alias, backfill, warnings,
                                       cases)
    except (ScoringError, DeclarationError, NotMigrated, SideEffectsRefused) as e:
        raise _fail(str(e)) from None
    except ArgumentError as e:
        raise _fail(f"bad database URL {settings.db_url!r}: {e}") from None
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise _fail(f"cannot use database {url}: {cause}") from None
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(batch_json(summary)))
        return
    typer.echo(format_summary(summary))
