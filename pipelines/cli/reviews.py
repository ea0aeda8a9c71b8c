"""``techcredit promote`` and ``techcredit reviews``: a reviewer moves the champion alias, and
everyone reads the decisions taken (refusals, overrides, promotions), oldest first.

``reviews --json`` gives each decision with its full gate (every check's value, rule and
outcome) as recorded, so a program need not open MLflow to audit a promotion.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from models.registry import ReviewRecord


def mount(app: typer.Typer) -> None:
    app.command()(promote)
    app.command()(reviews)


def promote(
    model: Annotated[str, typer.Argument(help="registered model, e.g. techcredit-credit")],
    version: Annotated[str, typer.Argument(help="model version to make champion")],
    reviewer: Annotated[str, typer.Option(help="name of the model reviewer (模型评审人)")],
    note: Annotated[str, typer.Option(help="review note, kept in the review history")],
    override: Annotated[
        bool, typer.Option(help="promote despite a failed gate (recorded)")
    ] = False,
) -> None:
    """Move the champion alias after review (评审通过后晋升为冠军模型)."""
    from pipelines.runtime import configure

    settings = configure()
    from mlflow.exceptions import MlflowException

    from models.registry import GateRefused, tracking_for
    from models.registry import promote as promote_version

    tracking = tracking_for(settings)
    try:
        tracking.client().get_model_version(model, version)
    except MlflowException:
        typer.echo(f"Error: {model} has no version {version!r}: `techcredit train` registers "
                   f"versions / 无此模型版本", err=True)
        raise typer.Exit(2) from None
    try:
        decision = promote_version(
            tracking,
            model,
            version,
            reviewer=reviewer,
            note=note,
            thresholds=settings.gate,
            override=override,
        )
    except GateRefused as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    except ValueError as e:  # no reviewer or note, a note too long
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    outcome = "passed" if decision.passed else "overridden: " + "; ".join(decision.failures)
    typer.echo(f"{model} v{version} is champion (gate {outcome}); reviewer {reviewer}")


def review_json(r: ReviewRecord) -> dict:
    """One decision as recorded; the gate as ``GateDecision.as_dict`` (passed, failures,
    every check; a figure that could not be computed is null)."""
    return {**asdict(r), "gate": r.gate.as_dict()}


def reviews(
    model: Annotated[str, typer.Option(help="registered model, e.g. techcredit-credit")],
    version: Annotated[str | None, typer.Option(help="only this version")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the decisions as a JSON "
                                                         "list, each with its full gate")] = False,
) -> None:
    """Show every review decision, oldest first (评审记录): refusals, overrides, promotions."""
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import review_history, tracking_for

    records = review_history(tracking_for(settings), model, version)
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps([review_json(r) for r in records]))
        return
    if not records:
        typer.echo(f"no review decisions for {model}" + (f" v{version}" if version else ""))
        return
    typer.echo(
        f"{'decided at (UTC) 时间':<27}{'version 版本':<13}{'outcome 结论':<14}"
        f"{'gate 门槛':<11}{'reviewer 评审人':<18}note 意见"
    )
    for r in records:
        gate = "passed" if r.gate_passed else f"{len(r.gate.failures)} failed"
        typer.echo(
            f"{r.decided_at:%Y-%m-%d %H:%M:%S}{'':<8}v{r.version:<12}{r.outcome.value:<14}"
            f"{gate:<11}{r.reviewer:<18}{r.note}"
        )
