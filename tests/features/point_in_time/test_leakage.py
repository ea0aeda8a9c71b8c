"""Point-in-time correctness: nothing dated after as_of can change a feature row for as_of.

The register as it looked at as_of is rebuilt from the full synthetic market (later contracts,
reports, conduct records, entities and status changes removed or undone); the full market
then plays the part of "records appended after as_of", plus a burst of extra future records
aimed at the same entities. Every feature table must come out identical.
"""

from __future__ import annotations

import pandas as pd
import pytest

from features.point_in_time.build import build_features
from features.synthetic.market import Market

AS_OF = pd.Timestamp("2018-06-30")


def _dates(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        df[c] = pd.to_datetime(df[c])
    return df


def registry_at(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    c = _dates(tables["contracts"], "registered_date", "status_date", "signed_date")
    c = c[c["registered_date"] <= as_of].copy()
    later = c["status_date"] > as_of
    c.loc[later, "status"] = "registered"
    c.loc[later, "status_date"] = pd.NaT
    inst = _dates(tables["institutions"], "founded_date", "status_date", "designated_date")
    inst = inst[inst["founded_date"] <= as_of].copy()
    later = inst["status_date"] > as_of
    inst.loc[later, "status"] = "active"
    inst.loc[later, "status_date"] = pd.NaT
    brk = _dates(tables["brokers"], "certified_date")
    rep = _dates(tables["institution_reports"], "submitted_date")
    cr = _dates(tables["conduct_records"], "confirmed_date")
    return {
        "contracts": c, "institutions": inst, "brokers": brk[brk["certified_date"] <= as_of],
        "institution_reports": rep[rep["submitted_date"] <= as_of],
        "conduct_records": cr[cr["confirmed_date"] <= as_of],
    }


def with_future_burst(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Extra records one day after as_of for the busiest pair, broker and institution."""
    out = dict(tables)
    c = _dates(tables["contracts"], "registered_date", "status_date", "signed_date")
    known = c[c["registered_date"] <= as_of]
    template = known[known["broker_id"].notna()].iloc[[-1] * 5].copy()
    template["contract_id"] = [f"CZ{i:08d}" for i in range(5)]
    template["registered_date"] = template["signed_date"] = as_of + pd.Timedelta(days=1)
    template["status"], template["status_date"] = "false_found", as_of + pd.Timedelta(days=2)
    out["contracts"] = pd.concat([c, template], ignore_index=True)
    cr = _dates(tables["conduct_records"], "confirmed_date", "occurred_date")
    extra = cr.iloc[[0, 0]].copy()
    extra["record_id"] = ["DZ0000001", "DZ0000002"]
    extra["subject_kind"] = ["institution", "broker"]
    extra["subject_id"] = [template["institution_id"].iloc[0], template["broker_id"].iloc[0]]
    extra["confirmed_date"] = as_of + pd.Timedelta(days=1)
    out["conduct_records"] = pd.concat([cr, extra], ignore_index=True)
    return out


@pytest.mark.parametrize("as_of", [AS_OF, pd.Timestamp("2019-12-31")])
def test_records_after_as_of_change_nothing(small_market: Market, as_of: pd.Timestamp) -> None:
    then = build_features(registry_at(small_market.tables, as_of), as_of)
    now = build_features(with_future_burst(small_market.tables, as_of), as_of)
    for kind in ("institution", "broker", "contract"):
        assert len(then[kind]) > 10
        pd.testing.assert_frame_equal(then[kind], now[kind], check_exact=False, rtol=1e-12)


def test_a_later_export_restating_a_broker_does_not_change_past_rows() -> None:
    """B001 is re-certified senior→junior with other hours in an export of 2020-09-01; as of
    2020-06-30 the feature row must be what the earlier export said."""
    from features.point_in_time.build import build_features
    from tests.features.point_in_time.test_build import AS_OF, hand_market

    tables = hand_market()
    before = build_features(tables, AS_OF)["broker"]
    first = tables["brokers"].assign(_exported_at=pd.Timestamp("2020-01-05", tz="UTC"))
    later = first.copy()
    later.loc[later["broker_id"] == "B001", ["cert_level", "training_hours", "institution_id"]] = [
        "junior", 5, None]
    later["_exported_at"] = pd.Timestamp("2020-09-01", tz="UTC")
    restated = build_features({**tables, "brokers": later, "brokers_history": first}, AS_OF)
    pd.testing.assert_frame_equal(restated["broker"], before)
    # and after the restatement the new values hold
    after = build_features({**tables, "brokers": later, "brokers_history": first},
                           pd.Timestamp("2020-09-30"))["broker"].set_index("entity_id")
    assert after.loc["B001", "brk_training_hours"] == 5 and after.loc["B001", "brk_cert_rank"] == 0
    assert after.loc["B001", "brk_affiliated"] == 0


def test_a_finding_later_withdrawn_still_counts_while_it_held() -> None:
    """C0008's history shows it found false on 2020-02-01; the current export has it
    registered again (with a basis). As of 2020-06-30 the finding was known."""
    from features.point_in_time.build import build_features
    from tests.features.point_in_time.test_build import AS_OF, hand_market

    tables = hand_market()
    con = tables["contracts"]
    old = con[con["contract_id"] == "C0008"].assign(
        status="false_found", status_date=pd.Timestamp("2020-02-01"))
    now = con.copy()
    now.loc[now["contract_id"] == "C0008", ["status", "status_date"]] = [
        "registered", pd.Timestamp("2020-09-01")]
    plain = build_features({**tables, "contracts": now}, AS_OF)["institution"]
    with_history = build_features({**tables, "contracts": now, "contracts_history": old},
                                  AS_OF)["institution"]
    col = "inst_false_found_all"
    i001 = with_history.set_index("entity_id").loc["I001"]
    assert col in with_history.columns
    assert i001[col] == plain.set_index("entity_id").loc["I001", col] + 1
