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
) -> None:
    """Score an entity at a date or check contracts (主体信用评分与合同异常核查).

    Prints score, grade, probability and reasons in Chinese and English, with the model
    versions and the alias used.
    """
    if (entity is None) == (contract is None):
        raise _fail("give --entity ID --as-of DATE, or --contract FILE")
    if entity is not None and as_of is None:
        raise _fail("--entity needs --as-of YYYY-MM-DD")
    if contract is not None and not contract.is_file():
        raise _fail(f"--contract {contract} is not a file")
    if source is not None and not source.is_dir():
        raise _fail(f"--source {source} is not a folder")
    from pipelines.runtime import configure

    settings = configure()
    from models.scoring import ScoringError
    from pipelines.score import (
        check_contract_file,
        format_contract,
        format_entity,
        score_entity_at,
    )

    try:
        if entity is not None:
            result = score_entity_at(settings, entity.strip(), str(as_of), source, alias, version)
            typer.echo(format_entity(result))
            return
        for checked in check_contract_file(settings, contract, source, alias, version):
            typer.echo(format_contract(checked))
    except ScoringError as e:
        raise _fail(str(e)) from None
