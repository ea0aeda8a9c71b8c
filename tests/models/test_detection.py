"""Review-list recall per pattern for several rankings, the large parties' exposure, intervals."""

from __future__ import annotations

import numpy as np
import pytest

from models.detection import large_party_exposure, recall_by_pattern, recall_intervals

PATTERN = np.array(["split", "split", "", "ring", "", "ring"])
OFFICES = np.array(["A", "A", "A", "B", "B", "B"])


def test_recall_counts_what_each_office_reviews_under_each_ranking() -> None:
    scores = {"model": np.array([0.9, 0.1, 0.8, 0.7, 0.2, 0.6]),
              "rules": np.array([0.0, 3.0, 0.0, 0.0, 0.0, 2.0])}
    t = recall_by_pattern(PATTERN, OFFICES, 1, scores, frozenset({"ring"})).set_index("pattern")
    # model: office A reviews the first split (0.9), office B the first ring leg (0.7)
    # rules: office A reviews the second split (3.0), office B the second ring leg (2.0)
    assert t.loc["split", ["contracts", "recall_model", "recall_rules"]].tolist() == [2, 0.5, 0.5]
    assert t.loc["ring", "held_out"] and not t.loc["split", "held_out"]
    assert t.loc["all", ["contracts", "recall_model"]].tolist() == [4, 0.5]


def test_large_honest_parties_are_measured_against_the_top_decile() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    seller = np.where(np.arange(n) < 300, "UNI", rng.choice([f"F{i}" for i in range(200)], n))
    pattern = np.where(np.arange(n) >= 990, "split", "")
    offices = np.array(["A"] * n)
    honest = rng.random(n) * 0.5
    flagged = np.where(seller == "UNI", 0.99, honest)  # a ranking that crowds the university
    t = large_party_exposure(seller, pattern, offices, 50, {"fair": honest, "crowded": flagged},
                             n_parties=1).set_index("ranking")
    assert t.loc["crowded", "top_decile_share"] > 0.3
    assert t.loc["crowded", "review_share"] == pytest.approx(50 / 300)
    assert t.loc["fair", "top_decile_share"] == pytest.approx(0.1, abs=0.05)
    assert t.loc["fair", "parties"] == 1 and t.loc["fair", "contracts"] == 300


def test_recall_intervals_resample_whole_schemes() -> None:
    pattern = np.array(["ring"] * 6 + ["split"] * 4)
    event = np.array([1, 1, 1, 2, 2, 2, 3, 3, 4, 4])
    on_list = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1, 1], dtype=bool)
    t = recall_intervals(pattern, event, {"model": on_list}, reps=400).set_index("pattern")
    assert t.loc["ring", "recall"] == 0.5 and t.loc["ring", "schemes"] == 2
    assert t.loc["ring", "lo"] == 0.0 and t.loc["ring", "hi"] == 1.0  # one scheme of two
    assert (t.loc["split", "lo"], t.loc["split", "hi"]) == (1.0, 1.0)


def test_top_share_recall_ranks_every_contract_of_the_period_together() -> None:
    """The top 2 % is of all rows, not per office: 100 rows, so the top two."""
    n = 100
    pattern = np.where(np.arange(n) < 4, "ring", "")
    offices = np.where(np.arange(n) % 2 == 0, "A", "B")
    model = np.linspace(0.0, 1.0, n)[::-1]  # row 0 highest
    t = recall_by_pattern(pattern, offices, 1, {"model": model}).set_index("pattern")
    assert t.loc["ring", "top_model"] == 0.5  # rows 0 and 1 of the four
    assert t.loc["ring", "recall_model"] == 0.5  # each office reviews its first: rows 0 and 1


def test_honest_parties_over_share_of_the_top_rows() -> None:
    n = 1000
    seller = np.where(np.arange(n) < 100, "UNI", "F")  # 10 % of all rows
    pattern = np.where(np.arange(n) == 999, "split", "")
    offices = np.array(["A"] * n)
    crowded = np.where(seller == "UNI", 1.0, 0.0) + np.arange(n) * 1e-6
    t = large_party_exposure(seller, pattern, offices, 5, {"crowded": crowded},
                             n_parties=1).set_index("ranking")
    # the top 2 % (20 rows) are all the university's: 100 % of the top against 10 % of all
    assert t.loc["crowded", "top_share"] == pytest.approx(0.2)
    assert t.loc["crowded", "top_over_share"] == pytest.approx(10.0)

