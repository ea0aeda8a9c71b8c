"""``techcredit rules …``: check, try, review and list the declarative warning rules.

Rules are reviewed like models: ``try`` evaluates a rule file on the store's history and keeps
the tables in MLflow; ``review`` records a reviewer's decision, and only a tried file can be
approved. Every mistake in a file or a refusal is one line and exit code 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from features.point_in_time.history import History
    from features.settings import Settings
    from models.rules.spec import RuleSet

rules_app = typer.Typer(help="declarative warning rules: check, try, review (预警规则)",
                        no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _load(file: Path) -> RuleSet:
    from models.rules.spec import RuleError, load_rules

    try:
        return load_rules(file)
    except RuleError as e:
        _fail(str(e))


@rules_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="rule file (TOML)")]) -> None:
    """Parse and validate a rule file, then list its rules (校验规则文件)."""
    ruleset = _load(file)
    typer.echo(f"{file}: version {ruleset.version}, {len(ruleset.rules)} rules, "
               f"sha256 {ruleset.sha256}")
    for r in ruleset.rules:
        window = (f"  [{r.window.min_hits}+ per {r.window.per} in {r.window.days} days]"
                  if r.window else "")
        typer.echo(f"  {r.id:<20} {r.entity:<12} {r.severity:<7} {r.when.source}{window}")
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
    first: Annotated[str | None, typer.Option("--from", help="first month YYYY-MM "
                                              "(default: first month of the history)")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last month YYYY-MM "
                                             "(default: last month of the history)")] = None,
    source: Annotated[Path | None, typer.Option(
        help="folder of standard Parquet tables; default: the curated store")] = None,
) -> None:
    """Evaluate a rule file on history: hits per month, later irregular, overlap with the
    model; kept in MLflow so a review can read it (规则试运行)."""
    ruleset = _load(file)
    lo, hi = _month(first, "--from"), _month(last, "--to")
    if source is not None and not source.is_dir():
        raise typer.BadParameter(f"--source {source} is not a folder")
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import store_for
    from models.rules.reviews import record_try

    outcome = run_try(settings, ruleset, lo, hi, source, typer.echo)
    record = record_try(store_for(settings), ruleset, outcome.texts, outcome.metrics,
                        outcome.tags)
    typer.echo(f"kept as run {record.run_id} in experiment techcredit-rules "
               f"(rules v{ruleset.version}, sha256 {ruleset.sha256[:12]})")


@rules_app.command("review")
def review(
    file: Annotated[Path, typer.Argument(help="rule file (TOML) that was tried")],
    reviewer: Annotated[str, typer.Option(help="name of the reviewer (评审人)")],
    note: Annotated[str, typer.Option(help="review note, kept in the history")],
    approve: Annotated[bool | None, typer.Option(
        "--approve/--reject", help="switch the rules on, or reject them")] = None,
) -> None:
    """Record a reviewer's decision on a tried rule file (规则评审); approval switches it on."""
    if approve is None:
        _fail("give --approve or --reject")
    ruleset = _load(file)
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import store_for
    from models.rules.reviews import RulesRefused
    from models.rules.reviews import review as record_review

    try:
        result = record_review(store_for(settings), ruleset, reviewer=reviewer, note=note,
                               approve=approve)
    except RulesRefused as e:
        _fail(str(e))
    typer.echo(result.message)


@rules_app.command("history")
def history() -> None:
    """Every try and review, oldest first (规则评审记录)."""
    from pipelines.runtime import configure

    settings = configure()
    from models.registry import store_for
    from models.rules.reviews import history as rule_history

    records = rule_history(store_for(settings))
    if not records:
        typer.echo("no rule tries or reviews yet")
        return
    typer.echo(f"{'decided at (UTC) 时间':<22}{'kind 类型':<10}{'version 版本':<13}"
               f"{'sha256':<14}{'outcome 结论':<14}{'reviewer 评审人':<16}note 意见 / hits")
    for r in records:
        detail = r.note if r.kind == "review" else f"{r.hits} hits"
        typer.echo(f"{r.decided_at:%Y-%m-%d %H:%M:%S}   {r.kind:<10}v{r.version:<12}"
                   f"{r.sha256[:12]:<14}{r.outcome or '-':<14}{r.reviewer or '-':<16}{detail}")


@dataclass(frozen=True)
class TryOutcome:
    """What a try keeps in MLflow beside the rule file."""

    texts: dict[str, str]  # artifact name -> text
    metrics: dict[str, float]
    tags: dict[str, str]


def run_try(settings: Settings, ruleset: RuleSet, lo: pd.Timestamp | None,
            hi: pd.Timestamp | None, source: Path | None, echo: Callable[[str], None]
            ) -> TryOutcome:
    """Evaluate the rules on the history from month ``lo`` to month ``hi``, print the tables.

    Contract features are computed from ``lo`` minus the longest rule window, so windowed
    rules count the contracts just before the first month too.
    """
    import numpy as np
    import pandas as pd

    from features.point_in_time.build import month_start
    from features.point_in_time.history import prepare
    from models.rules import trial
    from pipelines.build_features import load_tables

    tables = load_tables(settings, source)
    registered = pd.to_datetime(tables["contracts"]["registered_date"])
    if registered.empty:
        _fail("no contracts in the store: ingest exports first (techcredit ingest)")
    lo = lo if lo is not None else month_start(registered.min())
    end = (hi if hi is not None else registered.max()) + pd.offsets.MonthEnd(0)
    if lo > end:
        _fail(f"--from {lo:%Y-%m} is after --to {end:%Y-%m}")
    h = prepare(tables)
    irregular = trial.irregular_contracts(tables["contracts"], tables["conduct_records"],
                                          tables.get("contracts_history"))
    contract_hits, champion = _contract_hits(settings, ruleset, h, tables, lo, end, irregular,
                                             echo)
    parts = [contract_hits, *_entity_hits(ruleset, h, tables["conduct_records"], lo, end)]
    found = [p for p in parts if len(p)]
    hits = pd.concat(found, ignore_index=True) if found else contract_hits
    span = trial.months(lo, end)
    per_month = trial.hits_per_month(hits, [r.id for r in ruleset.rules], span)
    table = trial.summary(hits, ruleset.rules)
    summary = trial.format_summary(table)
    monthly = per_month.to_string()
    echo(f"rules v{ruleset.version} ({ruleset.sha256[:12]}) on {span[0]} … {span[-1]}: "
         f"{len(hits):,} hits")
    echo(summary)
    echo("\nhits per month 每月命中数")
    echo(monthly)
    metrics = {f"{r.rule_id}.{k}": float(getattr(r, k)) for r in table.itertuples()
               for k in ("hits", "irregular", "precision", "overlap")
               if not np.isnan(float(getattr(r, k)))}
    texts = {"summary.txt": summary, "hits_per_month.txt": monthly,
             "hits.csv": _csv(hits.drop(columns=["row"]))}
    tags = {"from": span[0], "to": span[-1], "hits": str(len(hits)),
            "champion": str(champion)}
    return TryOutcome(texts, metrics, tags)


def _csv(frame: pd.DataFrame) -> str:
    """``frame`` as a spreadsheet-safe CSV (missing values empty), like every CSV written."""
    from service.core.exports import csv_text

    cells = frame.astype(object).where(frame.notna(), None)
    return csv_text([str(c) for c in frame.columns], cells.itertuples(index=False))


def _contract_hits(settings: Settings, ruleset: RuleSet, h: History,
                   tables: dict[str, pd.DataFrame], lo: pd.Timestamp, end: pd.Timestamp,
                   irregular: set[str], echo: Callable[[str], None]
                   ) -> tuple[pd.DataFrame, str]:
    """Hits of the contract rules registered in [lo, end], with ``irregular`` and
    ``reviewed`` (in the champion anomaly model's review list; NaN without a champion), and
    which champion that was."""
    import numpy as np
    import pandas as pd

    from features.point_in_time.contract import contract_features
    from features.point_in_time.history import day_of
    from models.panels import CONTRACT_ATTRIBUTES
    from models.rules.evaluate import CONTRACT_KEYS, evaluate_contracts

    rules = ruleset.of("contract")
    lookback = max([r.window.days for r in rules if r.window is not None], default=0)
    reg = h.contracts["reg"].to_numpy()
    rows = np.arange(np.searchsorted(reg, day_of(lo) - lookback, side="left"),
                     np.searchsorted(reg, day_of(end), side="right"))
    if not rules or not len(rows):
        return _empty_hits(), "none"
    keys = tables["contracts"][[*CONTRACT_KEYS[2:], "contract_id", "office_id",
                                *CONTRACT_ATTRIBUTES]].astype({"contract_id": "str"})
    frame = contract_features(h, rows).merge(keys, on="contract_id", how="left",
                                             validate="one_to_one")
    hits = evaluate_contracts(ruleset, frame)
    hits = hits[pd.to_datetime(hits["date"]) >= lo].reset_index(drop=True)
    hits["entity"] = "contract"
    hits["irregular"] = hits["id"].isin(irregular)
    period = frame[frame["registered_date"] >= lo].reset_index(drop=True)
    reviewed, champion = _review_list(settings, period, echo)
    hits["reviewed"] = (np.nan if reviewed is None
                        else hits["id"].isin(reviewed).astype(np.float64))
    return hits, champion


def _review_list(settings: Settings, period: pd.DataFrame, echo: Callable[[str], None]
                 ) -> tuple[set[str] | None, str]:
    """The contracts the champion anomaly model puts on each office's yearly review list
    (its top ``offices.review_capacity``, a year's capacity), or None without a champion."""
    from models.metrics import top_k_by_group
    from models.registry import ANOMALY_MODEL, CHAMPION, alias_version, load_alias, store_for

    store = store_for(settings)
    model = load_alias(store, ANOMALY_MODEL)
    if model is None:
        echo(f"no champion {ANOMALY_MODEL} model: overlap with the model skipped")
        return None, "none"
    version = f"{ANOMALY_MODEL} v{alias_version(store, ANOMALY_MODEL, CHAMPION)}"
    missing = [f for f in model.features if f not in period]
    if missing:
        echo(f"{version} reads {missing[0]!r}, which the history lacks: overlap skipped")
        return None, version
    groups = (period["office_id"].astype("str") + "|"
              + period["registered_date"].dt.strftime("%Y")).to_numpy()
    top = top_k_by_group(model.predict(period), groups, settings.offices.review_capacity)
    echo(f"overlap: share of hits on the {version} review list (top "
         f"{settings.offices.review_capacity} per office and year)")
    return set(period.loc[top, "contract_id"].astype("str")), version


def _entity_hits(ruleset: RuleSet, h: History, conduct: pd.DataFrame, lo: pd.Timestamp,
                 end: pd.Timestamp) -> list[pd.DataFrame]:
    """Hits of the institution and broker rules at every month end in [lo, end]."""
    import numpy as np
    import pandas as pd

    from features.point_in_time.build import month_ends
    from features.point_in_time.entity import entity_features, market_flags
    from features.point_in_time.history import day_of
    from models.rules.evaluate import evaluate_entities
    from models.rules.trial import later_conduct

    kinds = [k for k in ("institution", "broker") if ruleset.of(k)]
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in kinds}
    for ts in month_ends(lo, end) if kinds else []:
        day = day_of(ts)
        flags = market_flags(h, day)
        for kind in kinds:
            frame = entity_features(h, kind, day, flags)
            frame.insert(1, "as_of", ts)
            parts[kind].append(evaluate_entities(ruleset, kind, frame))
    out = []
    for kind, frames in parts.items():
        hits = pd.concat(frames, ignore_index=True)
        hits["entity"] = kind
        hits["irregular"] = later_conduct(hits, conduct, kind)
        hits["reviewed"] = np.nan
        out.append(hits)
    return out


def _empty_hits() -> pd.DataFrame:
    import pandas as pd

    from models.rules.evaluate import HIT_COLUMNS

    return pd.DataFrame(columns=[*HIT_COLUMNS, "entity", "irregular", "reviewed"])
