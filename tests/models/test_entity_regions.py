"""Regions of scored entities as recorded on the as-of date (the service scopes by them)."""

from __future__ import annotations

import pandas as pd

from models.scoring import entity_regions


def test_region_is_the_one_recorded_at_the_as_of_date() -> None:
    institutions = pd.DataFrame({
        "institution_id": ["I0001", "I0002"], "region": ["310000", "440000"],
        "founded_date": pd.to_datetime(["2015-01-01", "2016-01-01"]),
        "status_date": pd.to_datetime(["2020-05-01", None]),
    })
    moved = institutions.iloc[:1].assign(region="110000",
                                         status_date=pd.Timestamp("2018-01-01"))
    brokers = pd.DataFrame({"broker_id": ["B0001"], "region": ["320000"],
                            "certified_date": pd.to_datetime(["2017-03-01"])})
    tables = {"institutions": institutions, "institutions_history": moved, "brokers": brokers}
    assert entity_regions(tables, pd.Timestamp("2020-01-31")) == {
        ("institution", "I0001"): "110000", ("institution", "I0002"): "440000",
        ("broker", "B0001"): "320000"}
    later = entity_regions(tables, pd.Timestamp("2020-06-30"))
    assert later[("institution", "I0001")] == "310000"
    # a market folder has no history: the one record holds
    assert entity_regions({"institutions": institutions, "brokers": brokers},
                          pd.Timestamp("2020-01-31"))[("institution", "I0001")] == "310000"
