"""Both techcredit models on the month-end point-in-time panel: the panels of
:mod:`models.panels` trained as :mod:`models.specs` declares.

The anomaly model is trained and registered first; its leakage-free scores are aggregated
per entity and as-of date and joined to the credit panel (see :mod:`models.panels`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.settings import Settings
from models import panels
from models.anomaly import scores_without_leakage
from models.entity_evidence import entity_aggregates
from models.fit import FitResult
from models.registry import tracking_for
from models.rules.contract import ContractRules
from models.rules.evaluate import evaluate_contracts
from models.rules.kinds import CONTRACT
from models.rules.rank import rule_floor, rule_precision
from models.rules.reviews import in_force
from models.scoring import CONTRACT_SCORES, CREDIT_INPUTS, SCORE_COLUMNS, CreditInputs
from models.specs import ANOMALY, CREDIT
from models.split import time_split
from pipelines.build_features import ENTITY_TRUTH, read_panel
from pipelines.training.run import TrainingData, TrainSummary, train


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


def rules_floor(ruleset: ContractRules, contracts: pd.DataFrame) -> np.ndarray:
    """Each contract's rule floor: the precision its rules showed on the training period,
    the same part :func:`models.split.time_split` gives the model, so no test outcome is read."""
    hits = evaluate_contracts(ruleset, contracts)
    train_rows = time_split(pd.to_datetime(contracts["as_of"]),
                            gap_months=ANOMALY.policy.gap_months).train
    precision = rule_precision(hits, contracts[ANOMALY.columns.label].to_numpy(), train_rows)
    return rule_floor(hits, len(contracts), precision)


def anomaly_data(settings: Settings, tables: dict[str, pd.DataFrame]) -> TrainingData:
    """The contract panel with each contract's rule floor, and the rules that gave it."""
    contracts = panels.contract_panel(read_panel("contract", settings), tables["contracts"])
    rules = in_force(settings, CONTRACT)
    contracts[panels.RULE_SCORE] = rules_floor(rules.rules, contracts)
    about = {"panel": ANOMALY.panel, **panels.as_of_window(contracts)}
    return TrainingData(contracts, about, rules.note)


def train_anomaly(settings: Settings, tables: dict[str, pd.DataFrame]) -> AnomalyStep:
    """Fit, review and register the anomaly model; score every contract out of sample."""
    data = anomaly_data(settings, tables)
    summary, fit = train(settings, data, ANOMALY)
    contracts = data.frame
    as_of = pd.to_datetime(contracts["as_of"])
    assert ANOMALY.cluster is not None  # declared: folds keep a scheme's party whole
    contracts["p_anomaly"] = scores_without_leakage(
        fit.model,
        fit.model.encoder.matrix(contracts),
        contracts[ANOMALY.columns.label].to_numpy(),
        (as_of <= pd.Timestamp(fit.windows["train"][1])).to_numpy(),
        fit.best_iteration,
        fit.params,
        ANOMALY.policy.max_train_rows,
        ANOMALY.cluster.groups(contracts),
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
        tracking_for(settings).client().log_artifact(run_id, str(path))


def log_credit_inputs(settings: Settings, summary: TrainSummary, inputs: CreditInputs) -> None:
    """Record on the credit version what scoring needs: the anomaly version and the features."""
    client = tracking_for(settings).client()
    client.log_dict(summary.run_id, inputs.as_dict(), CREDIT_INPUTS)
    for key in ("anomaly_model", "anomaly_version"):
        client.set_model_version_tag(CREDIT.name, summary.version, key, getattr(inputs, key))


def credit_frame(settings: Settings, tables: dict[str, pd.DataFrame],
                 contracts: pd.DataFrame) -> pd.DataFrame:
    """The credit panel: entity features, labels and the anomaly aggregates at each as-of."""
    entities = {
        kind: panels.entity_panel(read_panel(kind, settings)) for kind in ("institution", "broker")
    }
    as_ofs = sorted(set(entities["institution"]["as_of"]) | set(entities["broker"]["as_of"]))
    return panels.credit_panel(entities, tables, entity_aggregates(contracts, as_ofs))


def credit_training_frame(settings: Settings, tables: dict[str, pd.DataFrame],
                          anomaly: AnomalyStep, source: Path | None) -> pd.DataFrame:
    """The credit panel with the hidden-truth ceiling column when the data are synthetic."""
    return panels.with_truth_risk(
        credit_frame(settings, tables, anomaly.contracts), read_entity_truth(settings, source)
    )


def train_credit(settings: Settings, credit: pd.DataFrame, anomaly_model: str
                 ) -> tuple[TrainSummary, FitResult]:
    """Fit, review and register the credit model on a frame from :func:`credit_training_frame`."""
    about = {"panel": CREDIT.panel, **panels.as_of_window(credit), "anomaly_model": anomaly_model}
    return train(settings, TrainingData(credit, about), CREDIT)


def train_panel(settings: Settings, source: Path | None = None) -> list[TrainSummary]:
    """Anomaly model, then the credit model with anomaly aggregates; both logged and registered."""
    tables = read_tables(settings, source)
    anomaly = train_anomaly(settings, tables)
    credit = credit_training_frame(settings, tables, anomaly, source)
    summary, fit = train_credit(
        settings, credit, f"{ANOMALY.name} v{anomaly.summary.version}"
    )
    inputs = CreditInputs(ANOMALY.name, anomaly.summary.version, fit.model.features)
    log_credit_inputs(settings, summary, inputs)
    return [anomaly.summary, summary]
