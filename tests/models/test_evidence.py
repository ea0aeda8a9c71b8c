"""Clustered bootstrap intervals and seed spread."""

from __future__ import annotations

import numpy as np
import pytest

from models.evidence import clustered_bootstrap, seed_spread
from models.metrics import auc, ks


def _entities(n_entities: int, rows_each: int, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each entity repeats its outcome and (nearly) its score over its rows."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n_entities)
    bad = rng.random(n_entities) < 1 / (1 + np.exp(-(risk - 2)))
    ids = np.repeat(np.arange(n_entities), rows_each)
    good_model = risk[ids] + rng.normal(scale=0.3, size=len(ids))
    weak_model = risk[ids] + rng.normal(scale=2.0, size=len(ids))
    return bad[ids].astype(int), good_model, weak_model, ids


def test_point_estimates_are_the_plain_metrics() -> None:
    y, good, weak, ids = _entities(400, 3)
    b = clustered_bootstrap(y, {"good": good, "weak": weak}, ids, replicates=50)
    assert b.auc["good"].point == pytest.approx(auc(y, good))
    assert b.ks["weak"].point == pytest.approx(ks(y, weak))
    assert b.auc_gain["weak"].point == pytest.approx(auc(y, good) - auc(y, weak))
    assert (b.n, b.clusters, b.bads) == (1200, 400, int(y.sum()))


def test_weighted_replicate_with_unit_weights_equals_the_plain_auc() -> None:
    from models.evidence import _Ranked

    y, good, _, _ = _entities(300, 1, seed=2)
    good = np.round(good, 1)  # ties must count half, as roc_auc_score does
    rk = _Ranked(y, good)
    assert rk.auc(np.ones(len(y))) == pytest.approx(auc(y, good))
    assert rk.ks(np.ones(len(y))) == pytest.approx(ks(y, good))


def test_clustered_interval_is_wider_than_one_that_ignores_the_clusters() -> None:
    """Ten copies of each entity are not ten times the evidence."""
    y, good, weak, ids = _entities(300, 10, seed=1)
    clustered = clustered_bootstrap(y, {"good": good, "weak": weak}, ids, replicates=300)
    naive = clustered_bootstrap(y, {"good": good, "weak": weak}, np.arange(len(y)),
                                replicates=300)
    c, n = clustered.auc["good"], naive.auc["good"]
    assert c.high - c.low > 2 * (n.high - n.low)
    gain = clustered.auc_gain["weak"]
    assert gain.low > 0 and gain.low < gain.point < gain.high  # good really beats weak


def test_equal_models_have_a_gain_interval_around_zero() -> None:
    y, good, _, ids = _entities(500, 2, seed=3)
    b = clustered_bootstrap(y, {"a": good, "b": good.copy()}, ids, replicates=100)
    assert b.auc_gain["b"].low == b.auc_gain["b"].high == 0.0


def test_seed_spread() -> None:
    s = seed_spread([0.70, 0.72, 0.71])
    assert (s.mean, s.low, s.high, s.seeds) == (pytest.approx(0.71), 0.70, 0.72, 3)
    assert s.sd == pytest.approx(0.01)


def test_evidence_by_segment_reports_all_rows_each_segment_and_the_ceiling() -> None:
    import pandas as pd

    from models.evidence import evidence_by_segment

    y, good, weak, ids = _entities(600, 2, seed=4)
    held = pd.DataFrame({"y": y, "p_model": good, "p_baseline": weak, "entity_id": ids,
                         "kind": np.where(ids % 3 == 0, "institution", "broker"),
                         "truth": good * 2})
    out = evidence_by_segment(held, {"lightgbm": "p_model", "scorecard": "p_baseline"},
                              "entity_id", "kind", ceiling="truth", replicates=50)
    assert [e.segment for e in out] == ["all", "broker", "institution"]
    broker = held[held["kind"] == "broker"]
    assert out[1].bootstrap.auc["lightgbm"].point == pytest.approx(
        auc(broker["y"], broker["p_model"]))
    assert out[1].bootstrap.n == len(broker)
    assert out[0].ceiling == pytest.approx(auc(y, good))  # a monotone copy ranks the same
