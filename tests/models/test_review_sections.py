"""The review's evidence sections that need no fitted model: grade stability, the choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.champion import choose_family
from models.evidence import Bootstrap, Interval, SegmentEvidence
from models.review_sections import choice_section, grade_stability
from models.scaling import GradeCuts


class _Banded:
    cuts = GradeCuts(a_max_pd=0.04, b_max_pd=0.06, c_max_pd=0.10)


def test_grade_stability_counts_entities_changing_grade_at_the_next_month_end() -> None:
    held = pd.DataFrame({
        "entity_id": ["a", "a", "a", "b", "b", "c"],
        "as_of": pd.to_datetime(["2019-01-31", "2019-02-28", "2019-03-31",
                                 "2019-02-28", "2019-01-31", "2019-01-31"]),
        # a: A → A → C (one change of two); b (out of order): B on Jan, D on Feb (a change)
        "p_model": [0.01, 0.02, 0.07, 0.20, 0.05, 0.5],
    })
    section = grade_stability(held, _Banded(), "entity_id", "as_of")
    table = section.table.set_index("grade")
    assert table.loc["all", "pairs"] == 3 and table.loc["all", "changed"] == pytest.approx(2 / 3)
    assert table.loc["A", "changed"] == pytest.approx(0.5)
    assert table.loc["B", "changed"] == 1.0
    assert section.title_zh and section.title_en
    assert grade_stability(held, _Banded(), None, "as_of") is None  # no entity to follow


def test_the_choice_section_states_the_rule_and_each_verdict() -> None:
    iv = Interval(0.7, 0.6, 0.8)
    boot = Bootstrap(10, 5, 2, {"LightGBM": iv, "scorecard": iv}, {"LightGBM": iv},
                     {"scorecard": Interval(0.01, -0.01, 0.03)})
    section = choice_section(choose_family([SegmentEvidence("all", boot)], None))
    assert "scorecard serves unless" in section.note and "评分卡" in section.note
    assert section.table["serves"].tolist() == ["scorecard"]
    assert np.isfinite(section.table.shape[0])
