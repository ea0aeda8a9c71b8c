"""The evidence an entity's contracts raise, as of a date (主体合同证据): what reaches its score.

A contract's registration-time anomaly probability is the system's judgment on it; an
institution or broker is answerable for the contracts it handled. These aggregates carry those
judgments up to the entity, point in time (contracts registered on or before the as-of date):

* over the last 365 days and all history: the highest and the expected number (sum of
  probabilities), and the 365-day mean;
* time-decayed (half-life :data:`HALF_LIFE_DAYS`): the flagged contracts (probability at least
  :data:`FLAGGED_PROBABILITY`) and the expected number. A burst of flagged contracts weighs
  fully the day it happens and fades only as the entity stops producing them, where a 365-day
  window would drop a whole year at once and a mean would fall when honest contracts follow;
* for a broker, its institution's decayed flagged contracts (the institution of its latest
  contract): a broker working in an institution whose contracts are being flagged shares its
  risk. An institution's own aggregates already count every contract of its brokers.

Every aggregate except the mean is declared with risk direction +1, so the monotone
constraints of both model families (LightGBM's, the scorecard's monotone bins) guarantee that
one more flagged contract, or a higher probability on one, never lowers the entity's risk while
its other features stay as they are (:func:`models.specs` reads :func:`aggregate_directions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import EVIDENCE_HALF_LIFE_DAYS as HALF_LIFE_DAYS

WINDOW_DAYS = 365
# A contract counts as flagged at this anomaly probability: the lowest warning tier (blue) by
# default, about seven times the base rate (0.4 % of contracts are found false within a year).
# Not the orange tier (0.2): no training contract's out-of-fold score reaches it on the demo
# market (the highest is 0.15; 377 of 138,270 reach 0.03), so a count above it would be a
# constant the models could not learn from. Declared here, not read from the tier settings, so
# that a trained model's inputs never move with them.
FLAGGED_PROBABILITY = 0.03
INSTITUTION_FLAGGED = "brk_institution_flagged_decayed"


class Aggregates(NamedTuple):
    """The aggregate columns of one entity kind (``inst`` or ``brk`` prefix)."""

    max: str
    mean: str
    expected: str
    max_all: str
    expected_all: str
    flagged: str
    decayed: str

    def zero_when_none(self) -> tuple[str, ...]:
        """Counts and sums: an entity without contracts has none (the maxima and the mean stay
        unknown)."""
        return self.expected, self.expected_all, self.flagged, self.decayed


def aggregate_names(prefix: str) -> Aggregates:
    w = f"{WINDOW_DAYS}d"
    return Aggregates(f"{prefix}_anomaly_max_{w}", f"{prefix}_anomaly_mean_{w}",
                      f"{prefix}_anomaly_expected_{w}", f"{prefix}_anomaly_max_all",
                      f"{prefix}_anomaly_expected_all", f"{prefix}_anomaly_flagged_decayed",
                      f"{prefix}_anomaly_decayed")


def kind_names(prefix: str) -> tuple[str, ...]:
    """Every aggregate column of the kind: a broker's include its institution's flags."""
    return (*aggregate_names(prefix), *((INSTITUTION_FLAGGED,) if prefix == "brk" else ()))


def aggregate_descriptions(prefix: str) -> dict[str, tuple[str, str]]:
    a = aggregate_names(prefix)
    half = f"半衰期{HALF_LIFE_DAYS}天"
    out = {
        a.max: (f"经手合同最高异常概率(近{WINDOW_DAYS}天)",
                f"highest contract anomaly probability (last {WINDOW_DAYS} days)"),
        a.mean: (f"经手合同平均异常概率(近{WINDOW_DAYS}天)",
                 f"mean contract anomaly probability (last {WINDOW_DAYS} days)"),
        a.expected: (f"预期异常合同数(近{WINDOW_DAYS}天)",
                     f"expected number of irregular contracts (last {WINDOW_DAYS} days)"),
        a.max_all: ("经手合同最高异常概率(累计)",
                    "highest contract anomaly probability (all history)"),
        a.expected_all: ("预期异常合同数(累计)",
                         "expected number of irregular contracts (all history)"),
        a.flagged: (f"被标记异常的经手合同数({half})",
                    f"contracts flagged as irregular at registration (half-life "
                    f"{HALF_LIFE_DAYS} days)"),
        a.decayed: (f"预期异常合同数({half})",
                    f"expected number of irregular contracts (half-life {HALF_LIFE_DAYS} days)"),
    }
    if prefix == "brk":
        out[INSTITUTION_FLAGGED] = (
            f"所属机构被标记异常的合同数({half})",
            f"its institution's contracts flagged as irregular (half-life {HALF_LIFE_DAYS} days)")
    return out


def aggregate_directions(prefix: str) -> dict[str, int]:
    """More, or more anomalous, contracts never lower an entity's risk (the mean can fall
    when a flagged contract is added to worse ones, so it has no direction)."""
    return {n: 1 for n in kind_names(prefix) if n != aggregate_names(prefix).mean}


def _decay(days: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """2^((day - origin) / half-life): each contract's weight, scaled to a common origin so
    that a running sum read at T and multiplied by 2^(-(T - origin) / half-life) is the sum of
    every weight decayed to T."""
    return np.exp2((days - origin).astype(np.float64) / HALF_LIFE_DAYS)


def _grid(ids: np.ndarray, as_ofs: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Every (entity_id, as_of) pair, sorted by as_of: the left side of the as-of joins that
    read each entity's running figures at each date."""
    grid = pd.MultiIndex.from_product([ids, pd.to_datetime(list(as_ofs))],
                                      names=["entity_id", "as_of"]).to_frame(index=False)
    return grid.assign(as_of=grid["as_of"].astype("datetime64[ns]")).sort_values("as_of")


def entity_anomaly(contracts: pd.DataFrame, entity_col: str, as_ofs: Sequence[pd.Timestamp],
                   prefix: str) -> pd.DataFrame:
    """Per (entity, as_of) with a contract on or before as_of: the aggregates of
    :func:`aggregate_names` (counts and sums zero when the window holds none).

    ``contracts`` has ``entity_col``, ``registered_date`` and ``p_anomaly``, each score using
    only what was known at the contract's registration. Window figures count contracts
    registered in ``(as_of − 365 days, as_of]``.
    """
    a = aggregate_names(prefix)
    c = contracts.loc[contracts[entity_col].notna(), [entity_col, "registered_date", "p_anomaly"]]
    c = c.rename(columns={entity_col: "entity_id"}).sort_values("registered_date", kind="mergesort")
    c["registered_date"] = pd.to_datetime(c["registered_date"]).astype("datetime64[ns]")
    day = c["registered_date"].to_numpy(dtype="datetime64[D]")
    parts = []
    for as_of in as_ofs:
        hi = np.datetime64(pd.Timestamp(as_of).date(), "D")
        lo = hi - np.timedelta64(WINDOW_DAYS, "D")
        part = c.iloc[np.searchsorted(day, lo, side="right"):np.searchsorted(day, hi, side="right")]
        g = part.groupby("entity_id", sort=False)["p_anomaly"].agg(["max", "mean", "sum"])
        g.columns = [a.max, a.mean, a.expected]
        g = g.reset_index()
        g.insert(1, "as_of", pd.Timestamp(as_of))
        parts.append(g)
    window = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame(columns=["entity_id", "as_of", a.max, a.mean, a.expected]))
    # all history and decayed: running max and sums per entity, read at each as-of date
    origin = day[0] if len(day) else np.datetime64("2000-01-01", "D")
    weight = _decay(day, origin)
    p = c["p_anomaly"].to_numpy(dtype=np.float64)
    c["flag_w"] = (p >= FLAGGED_PROBABILITY) * weight
    c["p_w"] = p * weight
    g = c.groupby("entity_id", sort=False)
    c[a.max_all], c[a.expected_all] = g["p_anomaly"].cummax(), g["p_anomaly"].cumsum()
    c["flag_cum"], c["p_cum"] = g["flag_w"].cumsum(), g["p_w"].cumsum()
    grid = _grid(c["entity_id"].unique(), as_ofs)
    history = pd.merge_asof(
        grid,
        c[["entity_id", "registered_date", a.max_all, a.expected_all, "flag_cum", "p_cum"]],
        left_on="as_of", right_on="registered_date", by="entity_id", direction="backward",
    ).drop(columns="registered_date")
    history = history.dropna(subset=[a.expected_all])
    back = 1.0 / _decay(history["as_of"].to_numpy(dtype="datetime64[D]"), origin)
    history[a.flagged] = history.pop("flag_cum").to_numpy() * back
    history[a.decayed] = history.pop("p_cum").to_numpy() * back
    window["as_of"] = window["as_of"].astype("datetime64[ns]")
    out = history.merge(window, on=["entity_id", "as_of"], how="left")
    out[a.expected] = out[a.expected].fillna(0.0)
    return out[["entity_id", "as_of", *a]]


def institution_of_brokers(contracts: pd.DataFrame, as_ofs: Sequence[pd.Timestamp]
                           ) -> pd.DataFrame:
    """(broker entity_id, as_of, institution_id): the institution of each broker's latest
    contract with one, registered on or before as_of."""
    c = contracts.loc[contracts["broker_id"].notna() & contracts["institution_id"].notna(),
                      ["broker_id", "institution_id", "registered_date"]]
    c = c.assign(registered_date=pd.to_datetime(c["registered_date"]).astype("datetime64[ns]"))
    c = c.sort_values("registered_date", kind="mergesort").rename(
        columns={"broker_id": "entity_id"})
    grid = _grid(c["entity_id"].unique(), as_ofs)
    return pd.merge_asof(grid, c, left_on="as_of",
                         right_on="registered_date", by="entity_id", direction="backward",
                         ).drop(columns="registered_date").dropna(subset=["institution_id"])


def entity_aggregates(contracts: pd.DataFrame, as_ofs: Sequence[pd.Timestamp]
                      ) -> dict[str, pd.DataFrame]:
    """Institution and broker aggregates at each as-of date, from contract scores with
    ``institution_id``, ``broker_id``, ``registered_date`` and ``p_anomaly``: one call for the
    training panel, batch scoring, one entity's score and monitoring alike."""
    inst = entity_anomaly(contracts, "institution_id", as_ofs, "inst")
    brk = entity_anomaly(contracts, "broker_id", as_ofs, "brk")
    flagged = inst[["entity_id", "as_of", aggregate_names("inst").flagged]].rename(
        columns={"entity_id": "institution_id",
                 aggregate_names("inst").flagged: INSTITUTION_FLAGGED})
    works = institution_of_brokers(contracts, as_ofs).merge(
        flagged, on=["institution_id", "as_of"], how="left")
    brk = brk.merge(works[["entity_id", "as_of", INSTITUTION_FLAGGED]],
                    on=["entity_id", "as_of"], how="left")
    return {"institution": inst, "broker": brk}


def join_aggregates(rows: pd.DataFrame, aggregates: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """``rows`` (entity_id, as_of, ...) of one kind with its aggregates; an entity without
    contracts has zero counts and sums and unknown maxima, as in the training panel."""
    out = rows.merge(aggregates, on=["entity_id", "as_of"], how="left", validate="one_to_one")
    zero = [*aggregate_names(prefix).zero_when_none(),
            *((INSTITUTION_FLAGGED,) if prefix == "brk" else ())]
    out[zero] = out[zero].fillna(0.0)
    return out
