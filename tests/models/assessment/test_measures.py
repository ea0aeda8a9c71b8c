"""Indicator values from hand-made tables, point-in-time: nothing decided after the year's end
counts, and who is assessed follows founding and exit dates."""

from __future__ import annotations

import pandas as pd
import pytest

from models.assessment.config import load_config
from models.assessment.measures import AssessmentDataError, compute_indicators

D = pd.Timestamp


def _tables() -> dict[str, pd.DataFrame]:
    inst = pd.DataFrame({
        "institution_id": ["I1", "I2", "I3", "I4"], "name": ["甲", "乙", "丙", "丁"],
        "institution_type": ["university", "university", "private", "private"],
        "region": ["110000", "530000", "110000", "110000"],
        "founded_date": [D("2000-01-01"), D("2010-01-01"), D("2019-06-01"), D("2005-01-01")],
        "status": ["active", "exited", "active", "exited"],
        # I2 exits after 2019 ends: still assessed for 2019; I4 exited before
        "status_date": [pd.NaT, D("2020-03-01"), pd.NaT, D("2019-05-01")]})
    contracts = pd.DataFrame({
        "institution_id": ["I1", "I1", "I1", "I1", "I2", None],
        "registered_date": [D("2019-02-01"), D("2019-05-01"), D("2019-08-01"),
                            D("2018-03-01"), D("2019-04-01"), D("2019-04-01")],
        "amount_yuan": [100_000.0, 200_000.0, 300_000.0, 50_000.0, 80_000.0, 1.0],
        "tech_amount_yuan": [90_000.0, 150_000.0, 300_000.0, 50_000.0, 80_000.0, 1.0],
        # the second is found false only in 2020: in 2019 it still counted
        "status": ["registered", "false_found", "revoked", "registered", "registered",
                   "registered"],
        "status_date": [pd.NaT, D("2020-02-01"), D("2019-09-01"), pd.NaT, pd.NaT, pd.NaT]})
    reports = pd.DataFrame({
        "institution_id": ["I1", "I1", "I2"], "report_year": [2018, 2019, 2017],
        "submitted_date": [D("2019-03-01"), D("2020-03-01"), D("2018-03-01")],
        "staff": [40, 50, 10], "trained_staff": [30, 45, 9],
        "contracts_reported": [1, 3, 1],
        "amount_reported_yuan": [75_000.0, 1.0, 1.0], "service_revenue_yuan": [2e6, 1.0, 1.0],
        "clients_served": [20, 1, 1], "complaints": [2, 0, 0]})
    conduct = pd.DataFrame({
        "subject_kind": ["institution", "institution", "institution", "broker"],
        "subject_id": ["I1", "I1", "I1", "I1"],
        "confirmed_date": [D("2019-06-01"), D("2017-06-01"), D("2020-01-15"), D("2019-06-01")]})
    return {"institutions": inst, "contracts": contracts, "institution_reports": reports,
            "conduct_records": conduct}


def test_values_are_what_was_known_at_the_years_end() -> None:
    scores = pd.DataFrame({"entity_id": ["I1", "I1", "I2"],
                           "as_of": [D("2019-06-30"), D("2020-06-30"), D("2019-12-31")],
                           "points": [580.0, 610.0, 550.0]})
    f = compute_indicators(load_config(), _tables(), scores, 2019)
    assert f.index.tolist() == ["I1", "I2"]  # I3 founded in 2019, I4 exited in 2019
    i1, i2 = f.loc["I1"], f.loc["I2"]
    assert (i1["tier"], i2["tier"], i1["report_year"]) == ("eastern", "western", 2018)
    assert (i1["staff"], i1["trained_share"]) == (40.0, 75.0)  # the 2019 report came in 2020
    assert i1["contracts_facilitated"] == 2.0  # the revoked one does not count
    assert i1["tech_amount_facilitated"] == 24.0  # 万元
    assert (i1["service_revenue"], i1["clients_served"], i1["complaints_rate"]) == (
        200.0, 20.0, 10.0)
    assert i1["over_reporting"] == 50.0  # reported 75,000 for 2018, registered 50,000
    assert i1["conduct_records"] == 1.0  # two-year window; the 2020 one is not known yet
    assert i1["dishonest_contract_share"] == 0.0  # found false only in 2020
    assert i1["credit_points"] == 580.0 and i2["credit_points"] == 550.0
    # I2's latest report is for 2017: too old, so the report indicators are missing
    assert pd.isna(i2["report_year"]) and pd.isna(i2["staff"]) and pd.isna(i2["over_reporting"])
    assert i2["contracts_facilitated"] == 1.0


def test_later_findings_count_in_the_later_year() -> None:
    f = compute_indicators(load_config(), _tables(), pd.DataFrame(
        columns=["entity_id", "as_of", "points"]), 2020)
    i1 = f.loc["I1"]
    assert f.index.tolist() == ["I1", "I3"]  # I2 exited in March 2020
    assert i1["dishonest_contract_share"] == 25.0  # 1 of the 4 registered 2018-2020
    assert i1["conduct_records"] == 2.0 and i1["report_year"] == 2019
    assert pd.isna(i1["credit_points"])


def test_a_missing_table_is_named() -> None:
    tables = _tables()
    del tables["conduct_records"]
    with pytest.raises(AssessmentDataError, match="table conduct_records is missing"):
        compute_indicators(load_config(), tables, pd.DataFrame(), 2019)
