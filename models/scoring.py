"""Scoring from stored, versioned artifacts: the credit model's inputs rebuilt, nothing refitted.

The credit model reads anomaly aggregates (:func:`models.anomaly.entity_anomaly`) that training
computed from leakage-free contract scores. Refitting those fold boosters at scoring time would
be slow and could drift, so training stores the scores with the anomaly model's run
(:data:`CONTRACT_SCORES`) and the credit version records which anomaly version it was trained
with (:class:`CreditInputs`). Here the stored scores serve every contract they cover; only
contracts registered after them are scored by the anomaly model itself, so an unlabelled month
scores the same way as a labelled one. Pure: no MLflow, no Prefect, no files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import names_of
from features.point_in_time.versions import as_of as versions_as_of
from features.point_in_time.versions import attribute_versions
from models import panels
from models.credit_reasons import CreditReason, coded_reasons
from models.entity_evidence import entity_aggregates, join_aggregates, kind_names
from models.repair import Repair, repair_plan
from models.risk_model import RiskModel

CONTRACT_SCORES = "contract_scores.parquet"  # artifact of the anomaly model's run
CREDIT_INPUTS = "inputs.json"  # artifact of the credit model's run
SCORE_COLUMNS = ["contract_id", "registered_date", "institution_id", "broker_id", "p_anomaly"]
TOP_REASONS = 3


class ScoringError(ValueError):
    """Input that cannot be scored (unknown entity, date outside the data); one line."""


@dataclass(frozen=True)
class CreditInputs:
    """What a credit model version was trained with, recorded beside it as ``inputs.json``."""

    anomaly_model: str
    anomaly_version: str
    features: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"anomaly_model": self.anomaly_model, "anomaly_version": self.anomaly_version,
                "features": list(self.features)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CreditInputs:
        features = data["features"]
        if not isinstance(features, list):
            raise ValueError(f"{CREDIT_INPUTS}: features must be a list, got {features!r}")
        return cls(str(data["anomaly_model"]), str(data["anomaly_version"]),
                   tuple(str(f) for f in features))


@dataclass(frozen=True)
class ModelRef:
    """Which registered version scored, and through which alias (None: asked by version)."""

    name: str
    version: str
    alias: str | None

    def label(self) -> str:
        via = f"@{self.alias}" if self.alias else "(by version)"
        return f"{self.name} v{self.version} {via}"


@dataclass(frozen=True)
class EntityScore:
    entity_id: str
    kind: str  # "institution" or "broker"
    as_of: pd.Timestamp
    probability: float  # calibrated probability of a confirmed bad record within 12 months
    points: float
    grade: str
    reasons: tuple[CreditReason, ...]
    model: ModelRef
    anomaly_model: ModelRef  # whose contract scores the anomaly aggregates come from
    repair: Repair  # the smallest actionable changes that would move it up one grade


@dataclass(frozen=True)
class EntityScorer:
    """A credit model version with the anomaly version and stored scores it was trained on."""

    credit: RiskModel
    credit_ref: ModelRef
    anomaly: RiskModel
    anomaly_ref: ModelRef
    stored: pd.DataFrame  # :data:`SCORE_COLUMNS` of the anomaly version's run


def covered_through(stored: pd.DataFrame) -> pd.Timestamp:
    """The last registration day the stored contract scores cover."""
    return pd.Timestamp(pd.to_datetime(stored["registered_date"]).max()).normalize()


def contract_inputs(features: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Contract feature rows with the attributes and parties the anomaly model and the
    aggregates read: :func:`models.panels.contract_panel` without its label filter."""
    attrs = contracts[panels.TABLE_COLUMNS["contracts"]].astype({"contract_id": "str"})
    feats = features.astype({"contract_id": "str"})
    return feats.merge(attrs, on="contract_id", how="left", validate="many_to_one")


def contract_scores_at(stored: pd.DataFrame, anomaly: RiskModel, later: pd.DataFrame,
                       as_of: pd.Timestamp, through: pd.Timestamp) -> pd.DataFrame:
    """Every contract score known at ``as_of``: stored scores for the days they cover (up to
    ``through``, see :func:`covered_through`), the anomaly model's own for contracts registered
    after them (``later``, from :func:`contract_inputs`). Contracts inside the covered days that
    training did not score stay out, as they did in training."""
    day = pd.Timestamp(as_of).normalize()
    old = stored[pd.to_datetime(stored["registered_date"]) <= day]
    reg = pd.to_datetime(later["registered_date"])
    new = later[(reg > through) & (reg <= day)]
    if len(new):
        new = new.assign(p_anomaly=anomaly.predict(new))
    parts = [p[SCORE_COLUMNS] for p in (old, new) if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else stored[SCORE_COLUMNS].iloc[:0]


def credit_rows(entities: Mapping[str, pd.DataFrame], scores: pd.DataFrame,
                as_of: pd.Timestamp) -> pd.DataFrame:
    """The credit model's input rows at ``as_of`` for the kinds in ``entities``, assembled as
    :func:`models.panels.credit_panel` assembles the training panel (labels not needed)."""
    ts = pd.Timestamp(as_of).normalize()
    parts = []
    aggregates = entity_aggregates(scores, [ts])
    for kind, prefix, _, _ in panels.ENTITY_KINDS:
        if kind not in entities:
            continue
        p = entities[kind].astype({"entity_id": "str"})
        p["as_of"] = pd.to_datetime(p["as_of"]).astype("datetime64[ns]")
        parts.append(join_aggregates(p, aggregates[kind], prefix).assign(entity_kind=kind))
    return pd.concat(parts, ignore_index=True)


def entity_kind(entities: Mapping[str, pd.DataFrame], entity_id: str) -> str:
    """Institution or broker: the kind whose rows at the as-of date hold the id."""
    for kind, *_ in panels.ENTITY_KINDS:
        if (entities[kind]["entity_id"].astype("str") == entity_id).any():
            return kind
    raise ScoringError(f"unknown entity {entity_id!r}: no institution or broker with this id "
                       "is registered at the as-of date / 该日期无此机构或经纪人")


def score_entity(scorer: EntityScorer, entities: Mapping[str, pd.DataFrame],
                 later: pd.DataFrame, entity_id: str, as_of: pd.Timestamp) -> EntityScore:
    """One institution or broker at ``as_of`` from its feature rows
    (:func:`features.point_in_time.build.build_features`) and the contract rows registered
    after the stored scores (``later``); the anomaly aggregates use only contracts registered
    on or before ``as_of``."""
    kind = entity_kind(entities, entity_id)
    key = {k: column for k, _, _, column in panels.ENTITY_KINDS}[kind]
    own = entities[kind][entities[kind]["entity_id"].astype("str") == entity_id]
    stored, new = (_contracts_of(f, key, entity_id, (scorer.stored, later))
                   for f in (scorer.stored, later))
    scores = contract_scores_at(stored, scorer.anomaly, new, as_of,
                                covered_through(scorer.stored))
    row = credit_rows({kind: own}, scores, as_of)
    row = row.reindex(columns=list(dict.fromkeys([*row.columns, *scorer.credit.features])))
    s = scorer.credit.score(row, top=TOP_REASONS)
    why = kind_reasons(scorer.credit, row, kind)[0]
    plan = repair_plan(scorer.credit, scorer.credit.encoder.matrix(row),
                       shown_features(scorer.credit, kind))
    return EntityScore(entity_id, kind, pd.Timestamp(as_of).normalize(), float(s.pd[0]),
                       float(s.points[0]), str(s.grade[0]), why, scorer.credit_ref,
                       scorer.anomaly_ref, plan)


def _contracts_of(frame: pd.DataFrame, key: str, entity_id: str,
                  every: tuple[pd.DataFrame, ...]) -> pd.DataFrame:
    """The rows of ``frame`` one entity's aggregates read: its own contracts, and for a broker
    those of the institutions it worked for (its institution's flags are among its inputs)."""
    mine = frame[key].astype("str") == entity_id
    if key == "broker_id":
        worked_for = {i for f in every
                      for i in f.loc[f[key].astype("str") == entity_id, "institution_id"].dropna()}
        mine |= frame["institution_id"].isin(worked_for)
    return frame[mine]


def known_scores(scorer: EntityScorer, later: pd.DataFrame, as_of: pd.Timestamp,
                 checked: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every contract score the scorer knows at ``as_of`` (:func:`contract_scores_at` over its
    stored scores), for all entities at once; with ``checked`` (:data:`SCORE_COLUMNS` of the
    service's registration-time checks), also the checked contracts the store does not hold
    yet, scored as the check scored them."""
    known = contract_scores_at(scorer.stored, scorer.anomaly, later, as_of,
                               covered_through(scorer.stored))
    if checked is None or not len(checked):
        return known
    day = pd.Timestamp(as_of).normalize()
    extra = checked[~checked["contract_id"].astype("str").isin(known["contract_id"].astype("str"))
                    & (pd.to_datetime(checked["registered_date"]) <= day)]
    if not len(extra):
        return known
    out = pd.concat([known, extra[SCORE_COLUMNS]], ignore_index=True)
    return out.assign(registered_date=pd.to_datetime(out["registered_date"]))


def score_entities(scorer: EntityScorer, entities: Mapping[str, pd.DataFrame],
                   later: pd.DataFrame, as_of: pd.Timestamp,
                   checked: pd.DataFrame | None = None) -> list[EntityScore]:
    """Every institution and broker with a feature row at ``as_of`` (the rows exclude those
    not yet founded or certified and institutions that exited), scored in one pass: the
    batch run's path. Each result equals :func:`score_entity` for that entity; only the
    work is shared (one anomaly prediction, one scoring call, one SHAP call per kind).
    ``checked``: registration-time checks the store does not hold yet (:func:`known_scores`)."""
    ts = pd.Timestamp(as_of).normalize()
    rows = credit_rows(entities, known_scores(scorer, later, ts, checked), ts)
    rows = rows.reindex(columns=list(dict.fromkeys([*rows.columns, *scorer.credit.features])))
    s = scorer.credit.score(rows, top=TOP_REASONS)
    out: list[EntityScore] = []
    for kind, *_ in panels.ENTITY_KINDS:
        at = np.flatnonzero((rows["entity_kind"] == kind).to_numpy())
        if not len(at):
            continue
        reasons = kind_reasons(scorer.credit, rows.iloc[at], kind)
        shown = shown_features(scorer.credit, kind)
        x = scorer.credit.encoder.matrix(rows.iloc[at])
        out.extend(
            EntityScore(str(rows["entity_id"].iat[i]), kind, ts, float(s.pd[i]),
                        float(s.points[i]), str(s.grade[i]), why, scorer.credit_ref,
                        scorer.anomaly_ref, repair_plan(scorer.credit, x[r], shown))
            for r, (i, why) in enumerate(zip(at, reasons, strict=True)))
    return out


def entity_regions(tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp
                   ) -> dict[tuple[str, str], str]:
    """``(kind, entity_id) → province code`` as recorded at ``as_of`` (the version of the
    record that held that day, see :mod:`features.point_in_time.versions`); the service
    scopes regulators by it. ``tables`` are the standard tables, with ``<table>_history``
    when read from the store."""
    day = int(pd.Timestamp(as_of).normalize().to_datetime64().astype("datetime64[D]")
              .astype(np.int64))
    out: dict[tuple[str, str], str] = {}
    for kind, _, table, key in panels.ENTITY_KINDS:
        current = tables[table].astype({key: "str"})
        event, status = ("founded_date", "status_date") if kind == "institution" else (
            "certified_date", None)
        history = tables.get(f"{table}_history")
        versions = attribute_versions(
            current, None if history is None else history.astype({key: "str"}), key, event,
            status, ["region"])
        ids = pd.Index(versions[key].unique())
        held = versions_as_of(versions, ids, key, day, ["region"])
        out.update({(kind, i): str(r) for i, r in zip(ids, held["region"], strict=True)})
    return out


def shown_features(model: RiskModel, kind: str) -> list[str]:
    """The features a reason of this kind may name: the model's, less the other kind's (always
    missing for this kind, so their weight is the kind's own, which is no reason)."""
    foreign = {n for k, prefix, _, _ in panels.ENTITY_KINDS if k != kind
               for n in (*names_of(k), *kind_names(prefix))}
    return [f for f in model.features if f not in foreign]


def kind_reasons(model: RiskModel, rows: pd.DataFrame, kind: str
                 ) -> list[tuple[CreditReason, ...]]:
    """Per row (all of one kind), the reason codes that cost it the most points
    (:mod:`models.credit_reasons`): never the entity kind, an attribute without evidence, or
    the other kind's features."""
    x = model.encoder.matrix(rows)
    return coded_reasons(model.contributions(x), x, model.features, model.encoder.levels,
                         model.descriptions, model.scale.factor, shown_features(model, kind),
                         TOP_REASONS)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (what the online state and encoder expect)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")
