"""Entity helpers: threshold and round flags, ratios, market flags, presence, reports, counts."""

from __future__ import annotations

import numpy as np
import pytest

from features.point_in_time.entity import (
    MARKET_WINDOW,
    entity_features,
    handled,
    just_above,
    latest_reports,
    market_flags,
    present,
    ratio,
    round_amount,
)
from features.point_in_time.history import History, day_of, prepare
from tests.features.point_in_time.test_build import hand_market

AS_OF = day_of("2020-06-30")


@pytest.fixture(scope="module")
def h() -> History:
    return prepare(hand_market())


def test_just_above_is_within_three_percent_over_a_threshold() -> None:
    amount = np.array([999_999.99, 1_000_000, 1_030_000, 1_030_000.01, 2_000_000,
                       3_090_000, 3_090_001, 5_150_000, 0])
    assert just_above(amount).tolist() == [False, True, True, False, False,
                                           True, False, True, False]


def test_round_amount_is_a_whole_multiple_of_ten_thousand() -> None:
    amount = np.array([10_000, 20_000.0, 12_345, 10_000.5, 1e9, 9_999.99])
    assert round_amount(amount).tolist() == [True, True, False, False, True, False]


def test_ratio_is_nan_without_a_denominator() -> None:
    got = ratio(np.array([1.0, 2.0, 0.0]), np.array([4.0, 0.0, 0.0]))
    assert got[0] == 0.25
    assert np.isnan(got[1:]).all()


def test_market_flags_cover_the_last_365_days_only(h: History) -> None:
    flags = market_flags(h, AS_OF)
    ids = h.contracts["contract_id"].to_numpy()
    # C0008 (2019-01-10) is older than the window, C0009 (2020-07-05) is after as_of
    assert ids[flags.index].tolist() == ["C0007", "C0004", "C0005", "C0006", "C0003",
                                         "C0010", "C0001", "C0002"]
    assert list(flags.columns) == ["split", "reciprocal", "cycle"]
    flagged = {name: ids[flags.index[flags[name].to_numpy()]].tolist() for name in flags}
    assert flagged == {"split": ["C0001", "C0002"], "reciprocal": ["C0003", "C0001", "C0002"],
                       "cycle": ["C0004", "C0005", "C0006"]}
    assert MARKET_WINDOW == 365


def test_market_flags_do_not_see_the_ring_before_it_closes(h: History) -> None:
    # on 2020-04-02 only X1->X2 and X2->X3 are registered: no ring yet
    assert not market_flags(h, day_of("2020-04-02"))["cycle"].any()
    assert market_flags(h, day_of("2020-04-03"))["cycle"].sum() == 3


def test_present_follows_founding_exit_and_certification(h: History) -> None:
    # institutions I001..I004 are codes 0..3; I003 exits on 2020-03-01, I004 founded 2020-08-01
    assert present(h, "institution", day_of("2020-02-29")).tolist() == [0, 1, 2]
    assert present(h, "institution", day_of("2020-03-01")).tolist() == [0, 1]
    assert present(h, "institution", day_of("2020-08-01")).tolist() == [0, 1, 3]
    assert present(h, "broker", day_of("2020-05-31")).tolist() == [0]
    assert present(h, "broker", day_of("2020-06-01")).tolist() == [0, 1]
    assert present(h, "institution", day_of("2009-12-31")).tolist() == []


def test_latest_reports_keep_the_last_one_submitted_by_as_of(h: History) -> None:
    assert latest_reports(h, day_of("2020-03-14")).empty
    before = latest_reports(h, day_of("2020-03-15"))
    assert before.index.tolist() == [0] and before.loc[0, "year"] == 2019
    assert before.loc[0, "staff"] == 10
    after = latest_reports(h, day_of("2021-03-01"))
    assert after.index.tolist() == [0] and after.loc[0, "year"] == 2020


def test_handled_counts_and_shares_per_institution(h: History) -> None:
    x = handled(h, "institution", AS_OF, market_flags(h, AS_OF))
    # every contract with an institution registered by as_of; C0010 has none, C0009 is later
    assert x.c["contract_id"].tolist() == ["C0008", "C0007", "C0004", "C0005", "C0006",
                                           "C0003", "C0001", "C0002"]
    assert x.key.tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    assert x.age.tolist() == [537, 198, 90, 89, 88, 60, 0, 0]
    assert x.n == 4
    assert x.count(x.within(None)).tolist() == [6, 2, 0, 0]
    assert x.count(x.within(90)).tolist() == [3, 2, 0, 0]
    amount = x.c["amount"].to_numpy()
    assert x.count(x.within(61), amount)[0] == pytest.approx(1_010_000 + 500_000 + 123_456.78)
    # C0008 is older than the market window, so it carries no flag at all
    assert x.c["split"].tolist() == [False] * 6 + [True, True]
    share = x.share(x.within(365), x.c["cycle"].to_numpy())
    assert share[0] == pytest.approx(1 / 5) and share[1] == 1.0
    assert np.isnan(share[2:]).all()


def test_entity_features_have_one_row_per_present_entity(h: History) -> None:
    day = day_of("2020-02-29")
    frame = entity_features(h, "institution", day, market_flags(h, day))
    assert frame["entity_id"].tolist() == ["I001", "I002", "I003"]
    row = frame.set_index("entity_id").loc["I001"]
    # by 2020-02-29 I001 has handled C0008 and C0007 only; C0007 is found false on 2020-03-01
    assert row["inst_contracts_all"] == 2
    assert row["inst_false_found_all"] == 0
    assert frame.set_index("entity_id").loc["I003", "inst_contracts_all"] == 0
