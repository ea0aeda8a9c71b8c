"""What each model is, declared once: the panel it trains on, what its columns are for, how it
is fitted, how its features are chosen, which rows belong together, how it is reviewed and the
name it is registered under.

Training (:func:`pipelines.training.run.train`) reads a spec and nothing else about the model,
so the two production models and a table given on the command line go through the same code.
:data:`ANOMALY` (contracts) is trained first: its leakage-free scores, aggregated per
institution and broker, are features of :data:`CREDIT` (see :mod:`models.panels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import FEATURES, LABEL_MONTHS
from models.detection import CapacityReview
from models.entity_evidence import aggregate_directions
from models.fit import Policy, Roles, Selection
from models.panels import (
    CONTRACT_TARGET,
    CONTRACT_TRUTH,
    CREDIT_TARGET,
    DESCRIPTIONS,
    RULE_SCORE,
    TRUTH_RISK,
    contract_feature_names,
    credit_feature_names,
)
from models.registry import (
    ANOMALY_MODEL,
    CREDIT_MODEL,
    EXPERIMENT,
    EXTERNAL_EXPERIMENT,
    external_model_name,
)


@dataclass(frozen=True)
class Cluster:
    """The party a row belongs to: the first of ``keys`` that the row has.

    Rows scored out of sample by refitted boosters are folded by party, so a scheme's other
    contracts (sharing its actors and amounts) never train the booster that scores it. With
    ``intervals`` the review's AUC and KS intervals resample whole parties too: an entity's
    rows share its conduct, and resampling rows would give intervals far too narrow.
    """

    keys: tuple[str, ...]
    intervals: bool = False

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a cluster needs at least one key column")
        if self.intervals and len(self.keys) != 1:
            raise ValueError("the review's intervals resample by a single key column")

    @property
    def resampled(self) -> str | None:
        """The column the review's intervals resample by, if they do."""
        return self.keys[0] if self.intervals else None

    def groups(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's party as text: the first key present (e.g. the institution, else the
        broker, else the seller)."""
        key = frame[self.keys[0]].astype("str").where(frame[self.keys[0]].notna())
        for name in self.keys[1:]:
            key = key.fillna(frame[name].astype("str").where(frame[name].notna()))
        return key.to_numpy()


@dataclass(frozen=True)
class ModelSpec:
    """One model, declared: everything training needs to know about it.

    ``panel`` names what it trains on: a feature panel, or the file of a table given on the
    command line; ``experiment`` keeps runs on other tables out of the production models'
    experiment.
    """

    name: str
    panel: str
    experiment: str
    columns: Roles
    policy: Policy
    selection: Selection | None = None
    cluster: Cluster | None = None
    review: CapacityReview | None = None

    def __post_init__(self) -> None:
        c = self.columns
        held = {*c.features, *c.segments, *c.keys, *c.truth}  # what the held-out rows keep
        wanted: dict[str, str | None] = {
            "selection within": self.selection.within if self.selection else None,
            "cluster resampled": self.cluster.resampled if self.cluster else None,
        }
        if self.review is not None:
            r = self.review
            wanted |= {"review office": r.office, "review seller": r.seller,
                       "review rule score": r.rule_score}
            if r.pattern not in c.truth:
                raise ValueError(f"{self.name}: the review's pattern {r.pattern!r} is not a "
                                 "truth column")
        lost = {role: col for role, col in wanted.items() if col is not None and col not in held}
        if lost:
            raise ValueError(f"{self.name}: columns the fit and review read but the held-out "
                             f"rows would not keep: {lost}")

    def required(self) -> list[str]:
        """Every column the spec reads from its table: its roles (truth columns, which only a
        synthetic market has, are optional) and the cluster's keys; selection and review read
        only columns among the roles (checked above)."""
        c = self.columns
        named = [*c.features, c.label, *([c.time] if c.time else []), *c.segments, *c.keys,
                 *(self.cluster.keys if self.cluster else ())]
        return list(dict.fromkeys(named))

    def missing(self, columns: Iterable[str]) -> list[str]:
        """The required columns a table lacks."""
        have = set(columns)
        return [c for c in self.required() if c not in have]


# Both production models read the feature catalogue's risk directions (and those of the anomaly
# aggregates) as monotone constraints: one more flagged contract never lowers an entity's risk.
MONOTONE: dict[str, int] = {
    **{f.name: f.risk_direction for f in FEATURES if f.risk_direction},
    **aggregate_directions("inst"),
    **aggregate_directions("brk"),
}

# Training rows (max_train_rows): every bad plus goods sampled up to this many; valid and test
# are never sampled. Contracts (1.9 million training rows at full scale, 0.7 % bad) lose nothing
# measurable at 150,000; the credit panel (0.4 million) is measurably worse when sampled
# (benchmarks: AUC 0.718 against 0.723), so it trains on every row up to the cap.
ANOMALY = ModelSpec(
    name=ANOMALY_MODEL,
    panel="contract",
    experiment=EXPERIMENT,
    columns=Roles(
        label=CONTRACT_TARGET,
        features=tuple(contract_feature_names()),
        time="as_of",
        segments=("contract_type", "office_id"),
        keys=("seller_id", RULE_SCORE),
        truth=CONTRACT_TRUTH,
    ),
    policy=Policy(
        kind="anomaly",
        monotone=MONOTONE,
        descriptions=DESCRIPTIONS,
        max_train_rows=150_000,
        gap_months=LABEL_MONTHS,
        choose=False,  # a contract check answers in microseconds per micro-batch: LightGBM
    ),
    # the party that would run a scheme: every contract of one fraud event shares it, so
    # grouping by it keeps events whole without knowing which contracts are irregular
    cluster=Cluster(("institution_id", "broker_id", "seller_id")),
    review=CapacityReview(office="office_id", seller="seller_id", rule_score=RULE_SCORE,
                          pattern="pattern"),
)

# The credit panel's outcomes are rare and noisy (a bad is one confirmed record in a year), so
# its trees stay shallow and heavily regularised, and features that add nothing on the
# validation period are dropped before the final fit (benchmarks.md, "models": the scorecard
# otherwise wins on brokers while a pure-noise attribute leads the gain table).
CREDIT = ModelSpec(
    name=CREDIT_MODEL,
    panel="institution+broker",
    experiment=EXPERIMENT,
    columns=Roles(
        label=CREDIT_TARGET,
        features=tuple(credit_feature_names()),
        time="as_of",
        segments=("region", "entity_kind"),
        keys=("entity_id",),
        truth=(TRUTH_RISK,),
        ceiling=TRUTH_RISK,
    ),
    policy=Policy(
        kind="credit",
        monotone=MONOTONE,
        descriptions=DESCRIPTIONS,
        params={
            "learning_rate": 0.03,
            "num_leaves": 7,
            "max_depth": 3,
            "min_data_in_leaf": 300,
            "lambda_l2": 20.0,
            "min_gain_to_split": 1.0,
            "feature_fraction": 0.5,
            "extra_trees": True,
            "max_bin": 63,
        },
        max_train_rows=1_000_000,
        gap_months=LABEL_MONTHS,
    ),
    selection=Selection(within="entity_kind"),  # noise only if noise for both kinds
    cluster=Cluster(("entity_id",), intervals=True),  # intervals resample whole entities
)


def table_spec(source: Path, table: pd.DataFrame, target: str, time: str | None = None,
               segments: Sequence[str] = (), name: str | None = None) -> ModelSpec:
    """A table given on the command line: every column but target and time a candidate
    feature, the default policy, no selection; registered as ``name`` (default
    ``external-<file stem>``; never a production name) in its own experiment.

    Segments the table lacks are left out: they only split the review, which reports those
    the table has.
    """
    model = external_model_name(source, name)
    present = [s for s in segments if s in table.columns]
    return ModelSpec(
        name=model,
        panel=str(source),
        experiment=f"{EXTERNAL_EXPERIMENT}/{model}",
        columns=Roles.of_table(table.columns, target, time, present),
        policy=Policy(),
    )
