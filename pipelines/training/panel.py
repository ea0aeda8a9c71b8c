"""Both techcredit models on the month-end point-in-time panel (wiring of ``models.panels``).

The anomaly model is trained and registered first; its leakage-free scores are aggregated
per entity and as-of date and joined to the credit panel (see :mod:`models.panels`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import LABEL_MONTHS
from features.settings import Settings
from features.synthetic.patterns import HELD_OUT
from models import panels
from models.anomaly import anomaly_metrics, entity_anomaly, scheme_groups, scores_without_leakage
from models.detection import LARGE_PARTIES, large_party_exposure, recall_by_pattern
from models.fit import FitResult
from models.registry import ANOMALY_MODEL, CREDIT_MODEL, store_for
from models.review_sections import Section
from models.rules.evaluate import evaluate_contracts
from models.rules.rank import combined_score, rule_floor, rule_precision
from models.rules.reviews import active_rules
from models.rules.spec import DEFAULT_RULES, RuleSet, load_rules
from models.scoring import CONTRACT_SCORES, CREDIT_INPUTS, SCORE_COLUMNS, CreditInputs
from models.split import time_split
from pipelines.build_features import ENTITY_TRUTH, read_panel
from pipelines.training.run import TrainSummary, train_and_log

RULE_SCORE = "rule_score"


def read_tables(settings: Settings, source: Path | None) -> dict[str, pd.DataFrame]:
    """The attributes the panel lacks: contract office/parties/types, entity provinces."""
    if source is not None:
        return {
            t: pd.read_parquet(source / f"{t}.parquet", columns=c)
            for t, c in panels.TABLE_COLUMNS.items()
        }
    from pipelines.store.curated import snapshot

    snap = snapshot(settings)  # one manifest: every table from the same published state
    return {t: snap.read(t)[c] for t, c in panels.TABLE_COLUMNS.items()}


def read_entity_truth(settings: Settings, source: Path | None) -> pd.DataFrame | None:
    """The synthetic market's entity truth file, when the data came from one."""
    path = (source or settings.market_dir) / ENTITY_TRUTH
    return pd.read_parquet(path) if path.exists() else None


@dataclass
class AnomalyStep:
    """The registered anomaly model and every contract's leakage-free anomaly probability."""

    summary: TrainSummary
    fit: FitResult
    contracts: pd.DataFrame  # the contract panel with ``p_anomaly``


def rules_in_force(settings: Settings) -> tuple[RuleSet, str]:
    """The approved rule set, or the repository's default file before any approval."""
    active = active_rules(settings)
    if active is not None:
        return active, f"approved rules v{active.version}"
    default = load_rules(DEFAULT_RULES)
    return default, f"default rules v{default.version} (not yet approved)"


def review_rankings(held: pd.DataFrame) -> dict[str, np.ndarray]:
    """The three orderings of a review list: the model, the rules' floor, and both."""
    model, rules = held["p_model"].to_numpy(), held[RULE_SCORE].to_numpy()
    return {"model": model, "rules": rules, "combined": combined_score(model, rules)}


def detection_sections(held: pd.DataFrame, k: int, note: str) -> list[Section]:
    """Per-pattern recall of model, rules and both, and the largest honest parties' exposure."""
    offices = held["office_id"].to_numpy()
    scores = review_rankings(held)
    recall = recall_by_pattern(held["pattern"].to_numpy(), offices, k, scores, frozenset(HELD_OUT))
    exposure = large_party_exposure(held["seller_id"].to_numpy(), held["pattern"].to_numpy(),
                                    offices, k, scores)
    return [
        Section("各舞弊模式的审查召回率(模型、规则、合并)",
                "Recall per fraud pattern at review capacity: model, rules, combined", recall,
                f"Each office reviews its top {k} contracts of the test period; patterns from "
                f"the synthetic market's truth file; held_out = a variant of its family whose "
                f"own shape no feature or rule threshold was chosen on. Rules: {note}; alone "
                "they rank by the precision their hits showed on the training period; "
                "combined = the higher of that and the model's probability."),
        Section("最大诚信主体的误报", "False positives on the largest honest parties", exposure,
                f"The {LARGE_PARTIES} sellers with the most contracts in the test period and "
                f"none planted: share of their contracts in the top decile and on the review "
                f"list (review_share_all = the list's share of all contracts)."),
    ]


def rules_floor(ruleset: RuleSet, contracts: pd.DataFrame) -> np.ndarray:
    """Each contract's rule floor: the precision its rules showed on the training period,
    the same part :func:`models.split.time_split` gives the model, so no test outcome is read."""
    hits = evaluate_contracts(ruleset, contracts)
    train = time_split(pd.to_datetime(contracts["as_of"]), gap_months=LABEL_MONTHS).train
    precision = rule_precision(hits, contracts[panels.CONTRACT_TARGET].to_numpy(), train)
    return rule_floor(hits, len(contracts), precision)


def train_anomaly(settings: Settings, tables: dict[str, pd.DataFrame]) -> AnomalyStep:
    """Fit, review and register the anomaly model; score every contract out of sample."""
    contracts = panels.contract_panel(read_panel("contract", settings), tables["contracts"])
    k = settings.offices.review_capacity
    truth = [c for c in panels.CONTRACT_TRUTH if c in contracts.columns]
    ruleset, rules_note = rules_in_force(settings)
    contracts[RULE_SCORE] = rules_floor(ruleset, contracts)

    built: dict[int, list[Section]] = {}  # per fit: the metrics and the review read the same

    def recall_section(fit: FitResult) -> list[Section]:
        held = fit.held_out
        if "pattern" not in held:
            return []
        if id(held) not in built:
            built[id(held)] = detection_sections(held, k, rules_note)
        return built[id(held)]

    def office_metrics(fit: FitResult) -> dict[str, float]:
        held = fit.held_out
        offices = held["office_id"].to_numpy()
        out = anomaly_metrics(held["y"], held["p_model"], offices, k)
        if "pattern" in held:
            for table in recall_section(fit):
                frame = table.table
                if "pattern" in frame:
                    out |= {f"{col}_{r['pattern']}": float(r[col])
                            for r in frame.to_dict("records")
                            for col in ("recall_model", "recall_rules", "recall_combined")}
                else:
                    out |= {f"large_party_{col}_{r['ranking']}": float(r[col])
                            for r in frame.to_dict("records")
                            for col in ("top_decile_share", "review_share")}
        return out

    summary, fit = train_and_log(
        settings,
        contracts[[*panels.contract_feature_names(), panels.CONTRACT_TARGET, "as_of",
                   "office_id", "seller_id", RULE_SCORE, *truth]],
        target=panels.CONTRACT_TARGET,
        time="as_of",
        model_name=ANOMALY_MODEL,
        kind="anomaly",
        monotone=panels.MONOTONE,
        descriptions=panels.DESCRIPTIONS,
        exclude=["office_id", "seller_id", RULE_SCORE, *truth],
        segments=["contract_type", "office_id"],
        keep=["seller_id", RULE_SCORE, *truth],
        max_train_rows=panels.CONTRACT_MAX_TRAIN_ROWS,
        extra_metrics=office_metrics,
        sections=recall_section,
        gap_months=LABEL_MONTHS,
        data={"panel": "contract", **panels.as_of_window(contracts)},
    )
    as_of = pd.to_datetime(contracts["as_of"])
    contracts["p_anomaly"] = scores_without_leakage(
        fit.model,
        fit.model.encoder.matrix(contracts),
        contracts[panels.CONTRACT_TARGET].to_numpy(),
        (as_of <= pd.Timestamp(fit.windows["train"][1])).to_numpy(),
        fit.best_iteration,
        fit.params,
        panels.CONTRACT_MAX_TRAIN_ROWS,
        scheme_groups(contracts),
        seed=settings.seed % 2**31,
    )
    log_contract_scores(settings, summary.run_id, contracts)
    return AnomalyStep(summary, fit, contracts)


def log_contract_scores(settings: Settings, run_id: str, contracts: pd.DataFrame) -> None:
    """Keep the leakage-free scores with the anomaly run: the credit model's anomaly inputs
    are rebuilt from them at scoring time (:mod:`models.scoring`), never by refitting."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CONTRACT_SCORES
        contracts[SCORE_COLUMNS].to_parquet(path, index=False)
        store_for(settings).client().log_artifact(run_id, str(path))


def log_credit_inputs(settings: Settings, summary: TrainSummary, inputs: CreditInputs) -> None:
    """Record on the credit version what scoring needs: the anomaly version and the features."""
    client = store_for(settings).client()
    client.log_dict(summary.run_id, inputs.as_dict(), CREDIT_INPUTS)
    for key in ("anomaly_model", "anomaly_version"):
        client.set_model_version_tag(CREDIT_MODEL, summary.version, key, getattr(inputs, key))


def credit_frame(settings: Settings, tables: dict[str, pd.DataFrame],
                 contracts: pd.DataFrame) -> pd.DataFrame:
    """The credit panel: entity features, labels and the anomaly aggregates at each as-of."""
    entities = {
        kind: panels.entity_panel(read_panel(kind, settings)) for kind in ("institution", "broker")
    }
    as_ofs = sorted(set(entities["institution"]["as_of"]) | set(entities["broker"]["as_of"]))
    aggregates = {
        "institution": entity_anomaly(contracts, "institution_id", as_ofs, "inst"),
        "broker": entity_anomaly(contracts, "broker_id", as_ofs, "brk"),
    }
    return panels.credit_panel(entities, tables, aggregates)


def credit_training_frame(settings: Settings, tables: dict[str, pd.DataFrame],
                          anomaly: AnomalyStep, source: Path | None) -> pd.DataFrame:
    """The credit panel with the hidden-truth ceiling column when the data are synthetic."""
    return panels.with_truth_risk(
        credit_frame(settings, tables, anomaly.contracts), read_entity_truth(settings, source)
    )


def train_credit(settings: Settings, credit: pd.DataFrame, anomaly_model: str
                 ) -> tuple[TrainSummary, FitResult]:
    """Fit, review and register the credit model on a frame from :func:`credit_training_frame`."""
    truth = [panels.TRUTH_RISK] if panels.TRUTH_RISK in credit else []
    ids = [panels.CREDIT_CLUSTER, *truth]
    return train_and_log(
        settings,
        credit[[*panels.credit_feature_names(), panels.CREDIT_TARGET, "as_of", "region", *ids]],
        target=panels.CREDIT_TARGET,
        time="as_of",
        model_name=CREDIT_MODEL,
        kind="credit",
        monotone=panels.MONOTONE,
        descriptions=panels.DESCRIPTIONS,
        exclude=["region", *ids],
        segments=["region", "entity_kind"],
        keep=ids,
        max_train_rows=panels.CREDIT_MAX_TRAIN_ROWS,
        gap_months=LABEL_MONTHS,
        params=panels.CREDIT_PARAMS,
        select_features=panels.CREDIT_SELECT_FEATURES,
        select_within=panels.CREDIT_SELECT_WITHIN,
        cluster=panels.CREDIT_CLUSTER,
        ceiling=truth[0] if truth else None,
        data={
            "panel": "institution+broker",
            **panels.as_of_window(credit),
            "anomaly_model": anomaly_model,
        },
    )


def train_panel(settings: Settings, source: Path | None = None) -> list[TrainSummary]:
    """Anomaly model, then the credit model with anomaly aggregates; both logged and registered."""
    tables = read_tables(settings, source)
    anomaly = train_anomaly(settings, tables)
    credit = credit_training_frame(settings, tables, anomaly, source)
    summary, fit = train_credit(
        settings, credit, f"{ANOMALY_MODEL} v{anomaly.summary.version}"
    )
    inputs = CreditInputs(ANOMALY_MODEL, anomaly.summary.version, fit.model.features)
    log_credit_inputs(settings, summary, inputs)
    return [anomaly.summary, summary]
