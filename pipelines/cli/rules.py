"""``techcredit rules …``: check, try, review and list the declarative rules of either kind.

Rules are reviewed like models: ``try`` evaluates a rule file on the store's history and keeps
the tables in MLflow; ``review`` records a reviewer's decision, and only a tried file can be
approved. ``--kind`` names the kind of rule (:mod:`models.rules.kinds`): ``contract`` (the
default; ``models/rules/contract.toml``) or ``entity`` (the batch run's warnings;
``models/rules/entity.toml``). Every mistake in a file or a refusal is one line and exit
code 2.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from models.rules.kinds import KindName, RuleKind
    from models.rules.reviews import RuleRecord

rules_app = typer.Typer(help="declarative rules, contract and entity: check, try, review "
                             "(合同规则与主体预警规则)", no_args_is_help=True)
Kind = Annotated[Literal["contract", "entity"], typer.Option(
    "--kind", help="contract: checked at registration (contract.toml); entity: the batch "
                   "run's warnings (entity.toml)")]


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _kind(name: KindName) -> RuleKind[Any]:
    from models.rules.kinds import KINDS

    return KINDS[name]


def _load(kind: RuleKind[Any], file: Path) -> Any:
    from models.declared import DeclarationError, load

    try:
        return load(file, kind.parse)
    except DeclarationError as e:
        _fail(str(e))


@rules_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="rule file (TOML)")],
          kind: Kind = "contract") -> None:
    """Parse and validate a rule file, then list its rules (校验规则文件)."""
    ruleset = _load(_kind(kind), file)
    typer.echo(f"{file}: {kind} rules version {ruleset.version}, {len(ruleset.rules)} rules, "
               f"sha256 {ruleset.sha256}")
    if kind == "entity":
        typer.echo(f"  anomalous contract: probability >= {ruleset.anomaly.threshold:g}, "
                   f"counted over {ruleset.anomaly.days} days")
    for r in ruleset.rules:
        if kind == "entity":
            typer.echo(f"  {r.code:<26} {r.tier:<7} {r.when.source}")
            typer.echo(f"  {'':<26} {r.zh}")
            continue
        window = (f"  [{r.window.min_hits}+ per {r.window.per} in {r.window.days} days]"
                  if r.window else "")
        typer.echo(f"  {r.id:<20} {r.entity:<12} {r.tier:<7} {r.when.source}{window}")
        typer.echo(f"  {'':<20} {r.zh}")


def _month(text: str | None, option: str) -> pd.Timestamp | None:
    import pandas as pd

    if text is None:
        return None
    try:
        return pd.Timestamp(f"{text}-01")
    except ValueError:
        raise typer.BadParameter(f"{option} must look like 2020-06, got {text!r}") from None


@rules_app.command("try")
def try_rules(
    file: Annotated[Path, typer.Argument(help="rule file (TOML)")],
    kind: Kind = "contract",
    first: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM "
                                              "(default: first month of the history)")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM "
                                             "(default: last month of the history)")] = None,
    source: Annotated[Path | None, typer.Option(
        help="folder of standard Parquet tables; default: the curated store")] = None,
) -> None:
    """Evaluate a rule file on history: hits per month, later irregular, overlap with the
    model; kept in MLflow so a review can read it (规则试运行)."""
    rule_kind = _kind(kind)
    ruleset = _load(rule_kind, file)
    lo, hi = _month(first, "--from"), _month(last, "--to")
    if source is not None and not source.is_dir():
        raise typer.BadParameter(f"--source {source} is not a folder")
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import tracking_for
    from models.rules.reviews import RULES_EXPERIMENT, record_try
    from pipelines.cli.rules_try import TryRefused, run_try

    try:
        outcome = run_try(settings, rule_kind, ruleset, lo, hi, source, typer.echo)
    except TryRefused as e:
        _fail(str(e))
    record = record_try(tracking_for(settings), rule_kind, ruleset, outcome.texts,
                        outcome.metrics, outcome.tags)
    typer.echo(f"kept as run {record.run_id} in experiment {RULES_EXPERIMENT} "
               f"({kind} rules v{ruleset.version}, sha256 {ruleset.sha256[:12]})")


@rules_app.command("review")
def review(
    file: Annotated[Path, typer.Argument(help="rule file (TOML) that was tried")],
    reviewer: Annotated[str, typer.Option(help="name of the reviewer (评审人)")],
    note: Annotated[str, typer.Option(help="review note, kept in the history")],
    kind: Kind = "contract",
    approve: Annotated[bool | None, typer.Option(
        "--approve/--reject", help="switch the rules on, or reject them")] = None,
) -> None:
    """Record a reviewer's decision on a tried rule file (规则评审); approval switches it on
    for its kind."""
    if approve is None:
        _fail("give --approve or --reject")
    rule_kind = _kind(kind)
    ruleset = _load(rule_kind, file)
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import tracking_for
    from models.rules.reviews import RulesRefused
    from models.rules.reviews import review as record_review

    try:
        result = record_review(tracking_for(settings), rule_kind, ruleset, reviewer=reviewer,
                               note=note, approve=approve)
    except RulesRefused as e:
        _fail(str(e))
    typer.echo(result.message)


def record_json(r: RuleRecord) -> dict:
    """One try or review as recorded; a try's hits as a number when they were counted (as
    recorded otherwise), null for a review."""
    hits = int(r.hits) if r.hits.isdigit() else (r.hits or None)
    return {**asdict(r), "hits": hits}


@rules_app.command("history")
def history(kind: Annotated[Literal["contract", "entity"] | None, typer.Option(
        "--kind", help="only this kind of rule (default: both)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the tries and reviews as "
                                                             "a JSON list")] = False) -> None:
    """Every try and review, oldest first (规则评审记录)."""
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import tracking_for
    from models.rules.reviews import history as rule_history

    records = rule_history(tracking_for(settings), _kind(kind) if kind else None)
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps([record_json(r) for r in records]))
        return
    if not records:
        typer.echo("no rule tries or reviews yet")
        return
    typer.echo(f"{'decided at (UTC) 时间':<22}{'kind 类型':<10}{'rules 规则':<11}"
               f"{'version 版本':<13}{'sha256':<14}{'outcome 结论':<14}{'reviewer 评审人':<16}"
               "note 意见 / hits")
    for r in records:
        detail = r.note if r.kind == "review" else f"{r.hits} hits"
        typer.echo(f"{r.decided_at:%Y-%m-%d %H:%M:%S}   {r.kind:<10}{r.rule_kind:<11}"
                   f"v{r.version:<12}{r.sha256[:12]:<14}{r.outcome or '-':<14}"
                   f"{r.reviewer or '-':<16}{detail}")
