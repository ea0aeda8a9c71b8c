"""Both techcredit models on the month-end point-in-time panel (wiring of ``models.panels``).

The anomaly model is trained and registered first; its leakage-free scores are aggregated
per entity and as-of date and joined to the credit panel (see :mod:`models.panels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.point_in_time.catalogue import LABEL_MONTHS
from features.settings import Settings
from models import panels
from models.anomaly import (
    anomaly_metrics,
    entity_anomaly,
    pattern_recall,
    scheme_groups,
    scores_without_leakage,
)
from models.fit import FitResult
from models.registry import ANOMALY_MODEL, CREDIT_MODEL
from models.review_sections import Section
from pipelines.build_features import ENTITY_TRUTH, read_panel
from pipelines.training import TrainSummary, train_and_log


def read_tables(settings: Settings, source: Path | None) -> dict[str, pd.DataFrame]:
    """The attributes the panel lacks: contract office/parties/types, entity provinces."""
    if source is not None:
        return {
            t: pd.read_parquet(source / f"{t}.parquet", columns=c)
            for t, c in panels.TABLE_COLUMNS.items()
        }
    from pipelines.store import snapshot

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


def train_anomaly(settings: Settings, tables: dict[str, pd.DataFrame]) -> AnomalyStep:
    """Fit, review and register the anomaly model; score every contract out of sample."""
    contracts = panels.contract_panel(read_panel("contract", settings), tables["contracts"])
    k = settings.office_review_capacity
    truth = [c for c in panels.CONTRACT_TRUTH if c in contracts.columns]

    def recall_section(fit: FitResult) -> list[Section]:
        held = fit.held_out
        if "pattern" not in held:
            return []
        table = pattern_recall(held["pattern"].to_numpy(), held["p_model"],
                               held["office_id"].to_numpy(), k)
        return [Section("各舞弊模式的审查召回率", "Recall per fraud pattern at review capacity",
                        table, f"Each office reviews its top {k} contracts of the test period; "
                        "patterns from the synthetic market's truth file.")]

    def office_metrics(fit: FitResult) -> dict[str, float]:
        held = fit.held_out
        offices = held["office_id"].to_numpy()
        out = anomaly_metrics(held["y"], held["p_model"], offices, k)
        if "pattern" in held:
            recall = pattern_recall(held["pattern"].to_numpy(), held["p_model"], offices, k)
            out |= {f"recall_at_capacity_{r.pattern}": r.recall for r in recall.itertuples()}
        return out

    summary, fit = train_and_log(
        settings,
        contracts[[*panels.contract_feature_names(), panels.CONTRACT_TARGET, "as_of",
                   "office_id", *truth]],
        target=panels.CONTRACT_TARGET,
        time="as_of",
        model_name=ANOMALY_MODEL,
        kind="anomaly",
        monotone=panels.MONOTONE,
        descriptions=panels.DESCRIPTIONS,
        exclude=["office_id", *truth],
        segments=["contract_type", "office_id"],
        keep=truth,
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
    return AnomalyStep(summary, fit, contracts)


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
    summary, _ = train_credit(
        settings, credit, f"{ANOMALY_MODEL} v{anomaly.summary.version}"
    )
    return [anomaly.summary, summary]
