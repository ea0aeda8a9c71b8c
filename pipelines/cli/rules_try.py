"""Trying a rule file on the store's history (规则试运行), for ``techcredit rules try``.

Contract rules are evaluated on every contract registered in the period (features from just
before it, so windows count the contracts before the first month), their overlap with the
champion anomaly model's review lists measured, and the file's rules over institution or broker
features at every month end. Entity warning rules read scores, so the champion credit model
scores every institution and broker at every month end of the period (and the month end before
it, so the first month's warnings see an earlier grade, as the batch run sees the previous
run's); a month's grade is the next month's previous grade. Either way a hit is later found
irregular as :mod:`models.rules.trial` says, and the tables are the same; entity rules add the
warned share and the precision per tier (:func:`models.rules.trial.tier_summary`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from features.point_in_time.history import History
    from features.settings import Settings
    from models.rules.contract import ContractRules
    from models.rules.entity import EntityRules
    from models.rules.kinds import RuleKind
    from models.rules.trial import RuleLine


class TryRefused(ValueError):
    """A try that cannot run on this store; the message is one line."""


@dataclass(frozen=True)
class TryOutcome:
    """What a try keeps in MLflow beside the rule file."""

    texts: dict[str, str]  # artifact name -> text
    metrics: dict[str, float]
    tags: dict[str, str]


def run_try(settings: Settings, kind: RuleKind[Any], ruleset: Any, lo: pd.Timestamp | None,
            hi: pd.Timestamp | None, source: Path | None, echo: Callable[[str], None]
            ) -> TryOutcome:
    """Evaluate the rules on the history from month ``lo`` to month ``hi``, print the tables."""
    import numpy as np
    import pandas as pd

    from features.point_in_time.build import month_start
    from features.point_in_time.history import prepare
    from models.rules import trial
    from pipelines.build_features import load_tables

    tables = load_tables(settings, source)
    registered = pd.to_datetime(tables["contracts"]["registered_date"])
    if registered.empty:
        raise TryRefused("no contracts in the store: ingest exports first (techcredit ingest)")
    lo = lo if lo is not None else month_start(registered.min())
    end = (hi if hi is not None else registered.max()) + pd.offsets.MonthEnd(0)
    if lo > end:
        raise TryRefused(f"--from {lo:%Y-%m} is after --to {end:%Y-%m}")
    h = prepare(tables)
    tiers = None
    if kind.name == "contract":
        hits, lines, model = _contract_rule_hits(settings, ruleset, h, tables, lo, end, echo)
    else:
        hits, lines, model, tiers = _entity_rule_hits(settings, ruleset, h, tables, lo, end,
                                                      echo)
    span = trial.months(lo, end)
    per_month = trial.hits_per_month(hits, list(dict.fromkeys(r.rule_id for r in lines)), span)
    table = trial.summary(hits, lines)
    summary = trial.format_summary(table)
    monthly = per_month.to_string()
    echo(f"{kind.name} rules v{ruleset.version} ({ruleset.sha256[:12]}) on {span[0]} … "
         f"{span[-1]}: {len(hits):,} hits")
    echo(summary)
    echo("\nhits per month 每月命中数")
    echo(monthly)
    metrics = {f"{r.rule_id}.{r.entity}.{k}": float(getattr(r, k)) for r in table.itertuples()
               for k in ("hits", "irregular", "precision", "overlap")
               if not np.isnan(float(getattr(r, k)))}
    texts = {"summary.txt": summary, "hits_per_month.txt": monthly,
             "hits.csv": hits.drop(columns=["row"]).to_csv(index=False)}
    if tiers is not None:
        text = trial.format_tiers(tiers)
        echo("\nwarned share and precision per tier 预警占比与各级精确率 (entities × month ends; "
             "scored = everyone, its precision the base rate)")
        echo(text)
        texts["tiers.txt"] = text
        metrics |= trial.tier_metrics(tiers)
    tags = {"from": span[0], "to": span[-1], "hits": str(len(hits)), "champion": model}
    return TryOutcome(texts, metrics, tags)


def _contract_rule_hits(settings: Settings, ruleset: ContractRules, h: History,
                        tables: dict[str, pd.DataFrame], lo: pd.Timestamp, end: pd.Timestamp,
                        echo: Callable[[str], None]
                        ) -> tuple[pd.DataFrame, list[RuleLine], str]:
    """Hits of every rule of a contract rule file, a summary line per rule, and the anomaly
    champion the overlap was measured with."""
    import pandas as pd

    from models.rules import trial

    irregular = trial.irregular_contracts(tables["contracts"], tables["conduct_records"],
                                          tables.get("contracts_history"))
    contract_hits, champion = _contract_hits(settings, ruleset, h, tables, lo, end, irregular,
                                             echo)
    parts = [contract_hits, *_feature_hits(ruleset, h, tables["conduct_records"], lo, end)]
    found = [p for p in parts if len(p)]
    hits = pd.concat(found, ignore_index=True) if found else contract_hits
    lines = [trial.RuleLine(r.id, r.entity, r.tier) for r in ruleset.rules]
    return hits, lines, champion


def _contract_hits(settings: Settings, ruleset: ContractRules, h: History,
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
    from models.registry import ANOMALY_MODEL, CHAMPION, alias_version, load_alias, tracking_for

    tracking = tracking_for(settings)
    model = load_alias(tracking, ANOMALY_MODEL)
    if model is None:
        echo(f"no champion {ANOMALY_MODEL} model: overlap with the model skipped")
        return None, "none"
    version = f"{ANOMALY_MODEL} v{alias_version(tracking, ANOMALY_MODEL, CHAMPION)}"
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


def _feature_hits(ruleset: ContractRules, h: History, conduct: pd.DataFrame, lo: pd.Timestamp,
                  end: pd.Timestamp) -> list[pd.DataFrame]:
    """Hits of a contract rule file's rules over institution and broker features at every
    month end in [lo, end]."""
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


def _entity_rule_hits(settings: Settings, rules: EntityRules, h: History,
                      tables: dict[str, pd.DataFrame], lo: pd.Timestamp, end: pd.Timestamp,
                      echo: Callable[[str], None]
                      ) -> tuple[pd.DataFrame, list[RuleLine], str, pd.DataFrame]:
    """One hit per firing rule of every warning the entity rules would have raised at the
    month ends in [lo, end], a summary line per rule and kind of subject, the credit
    champion that scored, and the warned share and precision per tier."""
    import numpy as np
    import pandas as pd

    from features.point_in_time.build import build_features, month_ends
    from features.point_in_time.history import day_of
    from models.loading import load_scorer
    from models.rules import trial
    from models.rules.entity import WarningInputs
    from models.rules.evaluate import HIT_COLUMNS
    from models.rules.warn import anomaly_shares, warn
    from models.scoring import (
        ScoringError,
        contract_inputs,
        covered_through,
        known_scores,
        score_entities,
    )

    try:
        scorer = load_scorer(settings)
    except ScoringError as e:
        raise TryRefused(f"entity rules read the credit model's scores: {e}") from None
    echo(f"scores: {scorer.credit_ref.label()} at every month end")
    first_day = int(h.contracts["reg"].min())
    ends = [ts for ts in month_ends(lo - pd.Timedelta(days=1), end) if day_of(ts) >= first_day]
    start = covered_through(scorer.stored) + pd.Timedelta(days=1)
    later = contract_inputs(build_features(h, end, contracts_from=start)["contract"],
                            tables["contracts"])
    tier_of = {r.code: r.tier for r in rules.rules}
    previous: dict[tuple[str, str], str] = {}
    rows, scored = [], []
    for ts in ends:
        scores = score_entities(scorer, build_features(h, ts, contracts_from=ts), later, ts)
        if ts >= lo:
            shares = anomaly_shares(known_scores(scorer, later, ts), ts, rules.anomaly)
            alerts = warn(rules, [WarningInputs(
                s.points, s.probability, s.grade, previous.get((s.kind, s.entity_id)),
                shares.get((s.kind, s.entity_id))) for s in scores])
            rows += [{"id": s.entity_id, "date": ts, "rule_id": code, "tier": tier_of[code],
                      "zh": zh, "en": en, "entity": s.kind}
                     for s, a in zip(scores, alerts, strict=True) if a is not None
                     for code, zh, en in zip(a.codes, a.reasons_zh, a.reasons_en, strict=True)]
            scored += [{"id": s.entity_id, "date": ts, "entity": s.kind,
                        "tier": a.tier.value if a is not None else None}
                       for s, a in zip(scores, alerts, strict=True)]
        previous.update({(s.kind, s.entity_id): s.grade for s in scores})
    hits = pd.DataFrame(rows, columns=[c for c in HIT_COLUMNS if c != "row"] + ["entity"])
    hits.insert(0, "row", np.arange(len(hits)))
    everyone = pd.DataFrame(scored, columns=["id", "date", "entity", "tier"])
    for frame in (hits, everyone):
        frame["irregular"] = False
        for kind in ("institution", "broker"):
            mine = (frame["entity"] == kind).to_numpy()
            frame.loc[mine, "irregular"] = trial.later_conduct(
                frame[mine].reset_index(drop=True), tables["conduct_records"], kind)
    hits["reviewed"] = np.nan
    lines = [trial.RuleLine(r.code, kind, r.tier) for r in rules.rules
             for kind in ("institution", "broker")]
    return hits, lines, scorer.credit_ref.label(), trial.tier_summary(everyone)


def _empty_hits() -> pd.DataFrame:
    import pandas as pd

    from models.rules.evaluate import HIT_COLUMNS

    return pd.DataFrame(columns=[*HIT_COLUMNS, "entity", "irregular", "reviewed"])
