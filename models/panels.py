"""The panels the techcredit models train on: the month-end feature panels joined to the
attributes the models also read, their labels, and the wording of every column.

Order matters: the contract anomaly model is trained first, its out-of-sample scores are
aggregated per institution and broker over the 365 days before each as-of date, and those
aggregates join the credit panel. Rows whose 12-month label window runs past the data
(``label_complete`` false) are dropped: they are censored, not good. What each model makes
of its panel (columns, policy, selection) is declared in :mod:`models.specs`.
"""

from __future__ import annotations

import pandas as pd

from features.point_in_time.catalogue import FEATURES, names_of
from models.entity_evidence import aggregate_descriptions, join_aggregates, kind_names

TRUTH_RISK = "truth_risk"  # hidden integrity, negated: the ceiling column (synthetic only)
RULE_SCORE = "rule_score"  # the rules' floor beside each contract, added before training
CONTRACT_ATTRIBUTES = ("contract_type", "tech_field", "seller_kind", "buyer_kind")
CONTRACT_TARGET = "y_false_found"
# Truth-file columns of the synthetic market, carried to the review, never features.
CONTRACT_TRUTH = ("is_irregular", "pattern", "event_id")
CREDIT_TARGET = "y_12m"
# Columns each panel needs from the standard tables beside the built features.
TABLE_COLUMNS: dict[str, list[str]] = {
    "contracts": [
        "contract_id", "office_id", "institution_id", "broker_id", "seller_id", "buyer_id",
        *CONTRACT_ATTRIBUTES,
    ],
    "institutions": ["institution_id", "region"],
    "brokers": ["broker_id", "region"],
}
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
ENTITY_KINDS = (
    ("institution", "inst", "institutions", "institution_id"),
    ("broker", "brk", "brokers", "broker_id"),
)


def contract_feature_names() -> list[str]:
    return [*names_of("contract"), *CONTRACT_ATTRIBUTES]


def with_truth_risk(credit: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    """The synthetic market's hidden integrity beside each entity row, as a risk (higher =
    worse), so the review can show what the truth itself would score; never a feature.
    """
    if truth is None:
        return credit
    risk = truth[["entity_id", "integrity"]].astype({"entity_id": "str"})
    risk = risk.drop_duplicates("entity_id").rename(columns={"integrity": TRUTH_RISK})
    out = credit.merge(risk, on="entity_id", how="left", validate="many_to_one")
    out[TRUTH_RISK] = -out[TRUTH_RISK]
    return out


def credit_feature_names() -> list[str]:
    return [
        *names_of("institution"),
        *names_of("broker"),
        *kind_names("inst"),
        *kind_names("brk"),
        "entity_kind",
    ]


def as_of_window(panel: pd.DataFrame) -> dict[str, str]:
    """The data window logged with a run: first and last as-of date of its panel."""
    return {
        "as_of_first": str(panel["as_of"].min())[:10],
        "as_of_last": str(panel["as_of"].max())[:10],
    }


def complete(panel: pd.DataFrame) -> pd.DataFrame:
    """Rows whose label window lies inside the data; the rest are censored, not good."""
    return panel[panel["label_complete"].astype(bool)].reset_index(drop=True)


def contract_panel(panel: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Labelled contract features joined to the contract attributes the model also reads."""
    attrs = contracts.astype({"contract_id": "str"})
    out = complete(panel).merge(attrs, on="contract_id", how="left", validate="many_to_one")
    out[CONTRACT_TARGET] = out[CONTRACT_TARGET].astype(int)
    return out


def entity_panel(panel: pd.DataFrame) -> pd.DataFrame:
    out = complete(panel)
    out["as_of"] = pd.to_datetime(out["as_of"]).astype("datetime64[ns]")
    return out


def credit_panel(
    entities: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    aggregates: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """Institutions and brokers stacked, entity kind a feature, anomaly aggregates joined."""
    parts = []
    for kind, prefix, table, key in ENTITY_KINDS:
        p = entities[kind]
        region = tables[table].rename(columns={key: "entity_id"}).astype({"entity_id": "str"})
        p = p.merge(region, on="entity_id", how="left", validate="many_to_one")
        p = join_aggregates(p, aggregates[kind], prefix)
        parts.append(p.assign(entity_kind=kind))
    out = pd.concat(parts, ignore_index=True)
    out[CREDIT_TARGET] = out[CREDIT_TARGET].astype(int)
    return out
