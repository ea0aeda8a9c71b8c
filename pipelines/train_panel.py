"""Both techcredit models on the month-end point-in-time panel (thin wiring).

Order matters: the contract anomaly model is trained first, its out-of-sample scores are
aggregated per institution and broker over the 365 days before each as-of date, and those
aggregates join the credit panel. Rows whose 12-month label window runs past the data
(``label_complete`` false) are dropped: they are censored, not good.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.point_in_time.catalogue import FEATURES, names_of
from features.settings import Settings
from models.anomaly import (
    aggregate_descriptions,
    aggregate_directions,
    aggregate_names,
    anomaly_metrics,
    entity_anomaly,
    scores_without_leakage,
)
from models.registry import ANOMALY_MODEL, CREDIT_MODEL
from pipelines.build_features import read_panel

# Training rows per model: every bad plus goods sampled up to this many; valid and test are
# never sampled. Contracts (1.9 million training rows at full scale, 0.7 % bad) lose nothing
# measurable at 150,000; the credit panel (0.4 million) is measurably worse when sampled
# (benchmarks: AUC 0.718 against 0.723), so it trains on every row up to the cap.
CONTRACT_MAX_TRAIN_ROWS = 150_000
CREDIT_MAX_TRAIN_ROWS = 1_000_000
CONTRACT_ATTRIBUTES = ("contract_type", "tech_field", "seller_kind", "buyer_kind")
CONTRACT_TARGET = "y_false_found"
CREDIT_TARGET = "y_12m"
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    **{f.name: (f.zh, f.en) for f in FEATURES},
    "contract_type": ("合同类型", "contract type"),
    "tech_field": ("技术领域", "technology field"),
    "seller_kind": ("卖方类型", "seller kind"),
    "buyer_kind": ("买方类型", "buyer kind"),
    "entity_kind": ("主体类型(机构/经纪人)", "entity kind (institution or broker)"),
    **aggregate_descriptions("inst"),
    **aggregate_descriptions("brk"),
}
MONOTONE: dict[str, int] = {
    **{f.name: f.risk_direction for f in FEATURES if f.risk_direction},
    **aggregate_directions("inst"),
    **aggregate_directions("brk"),
}


def _as_of_window(panel: pd.DataFrame) -> dict[str, str]:
    """The data window logged with a run: first and last as-of date of its panel."""
    return {"as_of_first": str(panel["as_of"].min())[:10],
            "as_of_last": str(panel["as_of"].max())[:10]}


def _complete(panel: pd.DataFrame) -> pd.DataFrame:
    return panel[panel["label_complete"].astype(bool)].reset_index(drop=True)


def read_tables(settings: Settings, source: Path | None) -> dict[str, pd.DataFrame]:
    """The attributes the panel lacks: contract office/parties/types, entity provinces."""
    columns = {
        "contracts": [
            "contract_id",
            "office_id",
            "institution_id",
            "broker_id",
            *CONTRACT_ATTRIBUTES,
        ],
        "institutions": ["institution_id", "region"],
        "brokers": ["broker_id", "region"],
    }
    if source is not None:
        return {t: pd.read_parquet(source / f"{t}.parquet", columns=c) for t, c in columns.items()}
    from pipelines.store import read_curated

    return {t: read_curated(t, settings)[c] for t, c in columns.items()}


def contract_panel(settings: Settings, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    panel = _complete(read_panel("contract", settings))
    attrs = tables["contracts"].astype({"contract_id": "str"})
    return panel.merge(attrs, on="contract_id", how="left", validate="many_to_one")


def entity_panels(settings: Settings) -> dict[str, pd.DataFrame]:
    out = {}
    for kind in ("institution", "broker"):
        p = _complete(read_panel(kind, settings))
        p["as_of"] = pd.to_datetime(p["as_of"]).astype("datetime64[ns]")
        out[kind] = p
    return out


def credit_panel(
    entities: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    aggregates: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """Institutions and brokers stacked, entity kind a feature, anomaly aggregates joined."""
    parts = []
    for kind, prefix, table, key in (
        ("institution", "inst", "institutions", "institution_id"),
        ("broker", "brk", "brokers", "broker_id"),
    ):
        p = entities[kind]
        region = tables[table].rename(columns={key: "entity_id"}).astype({"entity_id": "str"})
        p = p.merge(region, on="entity_id", how="left", validate="many_to_one")
        agg = aggregates[kind]
        p = p.merge(agg, on=["entity_id", "as_of"], how="left", validate="one_to_one")
        _, _, exp, _, exp_all = aggregate_names(prefix)
        p[[exp, exp_all]] = p[[exp, exp_all]].fillna(0.0)  # no contracts: none expected
        parts.append(p.assign(entity_kind=kind))
    return pd.concat(parts, ignore_index=True)


def train_panel(settings: Settings, source: Path | None = None) -> list:
    """Anomaly model, then the credit model with anomaly aggregates; both logged and registered."""
    from pipelines.train import train_and_log

    tables = read_tables(settings, source)
    contracts = contract_panel(settings, tables)
    contracts[CONTRACT_TARGET] = contracts[CONTRACT_TARGET].astype(int)
    ctr_features = [*names_of("contract"), *CONTRACT_ATTRIBUTES]
    k = settings.office_review_capacity

    def office_metrics(fit) -> dict[str, float]:
        held = fit.held_out
        return anomaly_metrics(held["y"], held["p_model"], held["office_id"].to_numpy(), k)

    anomaly, afit = train_and_log(
        settings,
        contracts[[*ctr_features, CONTRACT_TARGET, "as_of", "office_id"]],
        target=CONTRACT_TARGET,
        time="as_of",
        model_name=ANOMALY_MODEL,
        kind="anomaly",
        monotone=MONOTONE,
        descriptions=DESCRIPTIONS,
        exclude=["office_id"],
        segments=["contract_type", "office_id"],
        max_train_rows=CONTRACT_MAX_TRAIN_ROWS,
        extra_metrics=office_metrics,
        data={"panel": "contract", **_as_of_window(contracts)},
    )
    x = afit.model.encoder.matrix(contracts)
    y = contracts[CONTRACT_TARGET].to_numpy()
    as_of = pd.to_datetime(contracts["as_of"])
    train_end = pd.Timestamp(afit.windows["train"][1])
    contracts["p_anomaly"] = scores_without_leakage(
        afit.model,
        x,
        y,
        (as_of <= train_end).to_numpy(),
        afit.best_iteration,
        afit.params,
        CONTRACT_MAX_TRAIN_ROWS,
        seed=settings.seed % 2**31,
    )
    entities = entity_panels(settings)
    entity_as_ofs = sorted(set(entities["institution"]["as_of"]) | set(entities["broker"]["as_of"]))
    aggregates = {
        "institution": entity_anomaly(contracts, "institution_id", entity_as_ofs, "inst"),
        "broker": entity_anomaly(contracts, "broker_id", entity_as_ofs, "brk"),
    }
    credit = credit_panel(entities, tables, aggregates)
    credit[CREDIT_TARGET] = credit[CREDIT_TARGET].astype(int)
    feats = [
        *names_of("institution"),
        *names_of("broker"),
        *aggregate_names("inst"),
        *aggregate_names("brk"),
        "entity_kind",
    ]
    summary, _ = train_and_log(
        settings,
        credit[[*feats, CREDIT_TARGET, "as_of", "region"]],
        target=CREDIT_TARGET,
        time="as_of",
        model_name=CREDIT_MODEL,
        kind="credit",
        monotone=MONOTONE,
        descriptions=DESCRIPTIONS,
        exclude=["region"],
        segments=["region", "entity_kind"],
        max_train_rows=CREDIT_MAX_TRAIN_ROWS,
        data={
            "panel": "institution+broker",
            **_as_of_window(credit),
            "anomaly_model": f"{ANOMALY_MODEL} v{anomaly.version}",
        },
    )
    return [anomaly, summary]
