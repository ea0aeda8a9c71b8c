"""A credit table with a known answer, for tests, benchmarks and reviewers' sanity checks.

The bad outcome follows a logistic model with a non-linear term (risk jumps once past
conduct records exceed one, as it does in practice), two categorical effects and missing
values that carry risk, so that both the scorecard and LightGBM have something to find and
the ranking between them is meaningful.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = ("110000", "310000", "320000", "440000", "610000", "510000")
KINDS = ("institution", "broker")


def credit_table(
    n: int = 4000, seed: int = 0, bad_rate: float = 0.08, years: tuple[int, int] = (2016, 2020)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    conduct = rng.poisson(0.3, n).astype(float)
    complaints = rng.gamma(1.5, 2.0, n)
    trained_share = rng.beta(5, 2, n)
    amount = rng.lognormal(13, 1.2, n)
    tenure = rng.uniform(0, 20, n)
    region = rng.choice(REGIONS, n)
    kind = rng.choice(KINDS, n, p=[0.3, 0.7])
    noise = rng.normal(size=n)
    logit = (
        0.9 * np.minimum(conduct, 3)
        + 0.8 * (conduct >= 2)
        + 0.15 * complaints
        - 2.0 * trained_share
        - 0.05 * tenure
        + np.where(region == "440000", 0.4, 0.0)
        + np.where(kind == "broker", 0.3, 0.0)
    )
    complaints_obs = np.where(rng.random(n) < 0.15, np.nan, complaints)
    logit = logit + np.where(np.isnan(complaints_obs), 0.5, 0.0)
    shift = np.quantile(logit, 1 - bad_rate)
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit - shift - 0.6)))).astype(int)
    as_of = pd.to_datetime(
        [
            f"{y_}-{m:02d}-28"
            for y_, m in zip(
                rng.integers(years[0], years[1] + 1, n), rng.integers(1, 13, n), strict=True
            )
        ]
    )
    return pd.DataFrame(
        {
            "entity_id": [f"E{i:07d}" for i in range(n)],
            "as_of": as_of,
            "past_conduct_records": conduct,
            "complaints": complaints_obs,
            "trained_share": trained_share,
            "amount_yuan": amount,
            "tenure_years": tenure,
            "region": pd.Series(region, dtype="str"),
            "entity_kind": pd.Series(kind, dtype="str"),
            "noise": noise,
            "y": y,
        }
    )
