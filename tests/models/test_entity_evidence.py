"""The evidence an entity's contracts raise: point in time, decayed, carried to a broker from its
institution, and monotone — one more flagged contract never lowers an entity's risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.entity_evidence import (
    FLAGGED_PROBABILITY,
    HALF_LIFE_DAYS,
    INSTITUTION_FLAGGED,
    aggregate_directions,
    aggregate_names,
    entity_aggregates,
    entity_anomaly,
)
from models.fit import Policy, Roles, fit_risk_model

AS_OF = pd.Timestamp("2019-12-31")


def _contracts(rows: list[tuple[str, str | None, str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["registered_date", "institution_id", "broker_id",
                                       "p_anomaly"]).assign(
        registered_date=lambda f: pd.to_datetime(f["registered_date"]))


def test_window_aggregates_use_only_the_365_days_up_to_as_of() -> None:
    contracts = pd.DataFrame({
        "broker_id": ["B1", "B1", "B1", "B2", None],
        "registered_date": pd.to_datetime(
            ["2018-12-31", "2019-06-30", "2020-01-01", "2019-12-31", "2019-12-31"]),
        "p_anomaly": [0.9, 0.2, 0.8, 0.4, 0.99],
    })
    out = entity_anomaly(contracts, "broker_id", [AS_OF], "brk")
    a = aggregate_names("brk")
    b1 = out.set_index("entity_id").loc["B1"]
    # 2018-12-31 is exactly 365 days back: outside (as_of − 365, as_of]; 2020-01-01 is the future
    assert b1[a.max] == pytest.approx(0.2) and b1[a.expected] == pytest.approx(0.2)
    assert b1[a.max_all] == pytest.approx(0.9) and b1[a.expected_all] == pytest.approx(1.1)
    assert out.set_index("entity_id").loc["B2", a.mean] == pytest.approx(0.4)
    assert set(out["entity_id"]) == {"B1", "B2"}


def test_flagged_contracts_count_fully_today_and_half_after_one_half_life() -> None:
    day = AS_OF - pd.Timedelta(days=HALF_LIFE_DAYS)
    contracts = _contracts([
        (str(AS_OF.date()), "I1", None, 0.9),  # flagged today: weight 1
        (str(day.date()), "I1", None, FLAGGED_PROBABILITY),  # flagged one half-life ago: 0.5
        (str(day.date()), "I1", None, FLAGGED_PROBABILITY - 0.01),  # not flagged
        ("2020-06-30", "I1", None, 0.99),  # after the as-of date
    ])
    a = aggregate_names("inst")
    row = entity_anomaly(contracts, "institution_id", [AS_OF], "inst").iloc[0]
    assert row[a.flagged] == pytest.approx(1.5)
    assert row[a.decayed] == pytest.approx(0.9 + 0.5 * (2 * FLAGGED_PROBABILITY - 0.01))
    # a year later with nothing new, the same evidence weighs 2^(-365/180) as much
    later = entity_anomaly(contracts.iloc[:3], "institution_id",
                           [AS_OF + pd.Timedelta(days=365)], "inst").iloc[0]
    assert later[a.flagged] == pytest.approx(1.5 * 2 ** (-365 / HALF_LIFE_DAYS))


def test_a_broker_carries_its_latest_institutions_flags() -> None:
    contracts = _contracts([
        ("2019-01-10", "I1", "B1", 0.01),
        ("2019-06-01", "I2", "B1", 0.01),  # B1 moved to I2: its latest institution
        ("2019-12-31", "I2", "B2", 0.9),  # a colleague's flagged contract at I2
        ("2019-12-31", "I1", None, 0.9),
        ("2019-12-31", "I1", None, 0.9),
    ])
    out = entity_aggregates(contracts, [AS_OF])
    brokers = out["broker"].set_index("entity_id")
    inst = out["institution"].set_index("entity_id")
    assert brokers.loc["B1", INSTITUTION_FLAGGED] == pytest.approx(
        inst.loc["I2", aggregate_names("inst").flagged]) == pytest.approx(1.0)
    assert inst.loc["I1", aggregate_names("inst").flagged] == pytest.approx(2.0)


def test_every_aggregate_but_the_mean_is_monotone() -> None:
    for prefix in ("inst", "brk"):
        a = aggregate_names(prefix)
        directions = aggregate_directions(prefix)
        assert a.mean not in directions and set(directions.values()) == {1}
        assert set(directions) == set(a) - {a.mean} | (
            {INSTITUTION_FLAGGED} if prefix == "brk" else set())


def test_one_more_flagged_contract_raises_probability_and_never_rank() -> None:
    """A LightGBM credit model with the aggregates' monotone constraints, fitted on rows where
    the evidence carries risk and other features pull both ways: adding flagged contracts to one
    entity (its other features as they were) raises its probability at every step, and its rank
    among the others never falls."""
    rng = np.random.default_rng(7)
    n = 3000
    a = aggregate_names("brk")
    frame = pd.DataFrame({
        a.flagged: rng.exponential(0.5, n), a.decayed: rng.exponential(1.0, n),
        "brk_buyer_hhi_365d": rng.random(n), "brk_contracts_365d": rng.poisson(8, n) * 1.0,
        "t": np.repeat(np.arange(10), n // 10),
    })
    logit = (-3 + 1.2 * frame[a.flagged] + 0.3 * frame[a.decayed]
             + 1.5 * (frame["brk_buyer_hhi_365d"] - 0.5) ** 2 - 0.05 * frame["brk_contracts_365d"])
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    fit = fit_risk_model(frame, Roles.of_table(frame.columns, "y", "t"),
                         Policy(kind="credit", baseline=False,
                                monotone=aggregate_directions("brk")))
    model = fit.model
    others = model.predict(frame)
    entity = frame.iloc[[int(np.argmin(np.abs(others - np.median(others))))]].copy()
    probabilities, ranks = [], []
    for _ in range(8):  # one flagged contract at a time, registered today
        entity[a.flagged] += 1.0
        entity[a.decayed] += 0.6
        p = float(model.predict(entity)[0])
        probabilities.append(p)
        ranks.append(int((others > p).sum()))  # how many others rank above it
    assert probabilities == sorted(probabilities)
    assert probabilities[-1] > probabilities[0]
    assert ranks == sorted(ranks, reverse=True)
