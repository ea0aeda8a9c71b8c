"""The rule that chooses the serving family, on hand-made intervals."""

from __future__ import annotations

import numpy as np

from models.champion import choose_family, verdict
from models.evidence import Bootstrap, Interval, SegmentEvidence
from models.risk_model import Route
from models.table import Encoder


def _evidence(segment: str, gain: Interval) -> SegmentEvidence:
    iv = Interval(0.7, 0.6, 0.8)
    return SegmentEvidence(segment, Bootstrap(100, 50, 10, {"LightGBM": iv, "scorecard": iv},
                                              {"LightGBM": iv, "scorecard": iv},
                                              {"scorecard": gain}))


def test_lightgbm_serves_only_when_its_gain_interval_is_above_zero() -> None:
    assert verdict("all", Interval(0.01, 0.001, 0.02)).family == "lightgbm"
    assert verdict("all", Interval(0.006, -0.004, 0.015)).family == "scorecard"
    assert verdict("all", Interval(-0.011, -0.026, 0.002)).family == "scorecard"
    assert verdict("all", Interval(0.01, 0.0, 0.02)).family == "scorecard"  # touching zero
    none = verdict("tiny", None)
    assert none.family == "scorecard" and "no evidence" in none.why_en
    assert "评分卡" in verdict("all", Interval(0.0, -0.01, 0.01)).why_zh


def test_each_kind_gets_its_own_verdict_and_unseen_kinds_follow_all_rows() -> None:
    choice = choose_family([_evidence("all", Interval(0.02, 0.01, 0.03)),
                            _evidence("broker", Interval(0.03, 0.02, 0.04)),
                            _evidence("institution", Interval(-0.01, -0.03, 0.01))],
                           "entity_kind")
    route = choice.route()
    assert route == Route("lightgbm", "entity_kind",
                          {"broker": "lightgbm", "institution": "scorecard"})
    assert choice.table()["serves"].tolist() == ["lightgbm", "lightgbm", "scorecard"]
    assert choice.as_dict()["served"] == {"all": "lightgbm", "broker": "lightgbm",
                                          "institution": "scorecard"}
    enc = Encoder(("x",), {"entity_kind": ("broker", "institution", "newcomer")})
    x = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, np.nan], [1.0, 2.0]])
    # a missing or unseen kind follows the verdict on all rows
    assert route.scorecard_rows(x, enc).tolist() == [False, True, False, False]


def test_without_a_segment_one_verdict_serves_every_row() -> None:
    choice = choose_family([_evidence("all", Interval(0.0, -0.01, 0.01))], None)
    assert choice.levels == () and choice.route() == Route("scorecard", None, {})
