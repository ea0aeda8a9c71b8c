"""Merging validated records: identical reloads change nothing, corrections replace the stored
record and keep the old version in history, the last version within a run wins."""

from __future__ import annotations

import pandas as pd

from features.ingest.merge import merge_records
from features.standard.schema import conform
from features.standard.tables import BROKERS


def brokers(rows: list[tuple[str, int]], run: str) -> pd.DataFrame:
    df = pd.DataFrame({
        "broker_id": [r[0] for r in rows], "institution_id": [None] * len(rows),
        "cert_level": "junior", "region": "110000", "certified_date": pd.Timestamp("2015-01-01"),
        "training_hours": [r[1] for r in rows],
    })
    out = conform(BROKERS, df)
    lines = range(2, len(rows) + 2)
    out["_source_file"], out["_source_line"], out["_run_id"] = f"{run}.csv", lines, run
    return out


def test_new_records_are_inserted() -> None:
    m = merge_records(
        BROKERS, brokers([], "r0"), brokers([("B0000001", 10), ("B0000002", 20)], "r1")
    )
    assert (m.inserted, m.updated, m.unchanged) == (2, 0, 0)
    assert m.current["broker_id"].tolist() == ["B0000001", "B0000002"] and m.superseded.empty


def test_identical_reload_changes_nothing_and_keeps_the_original_lineage() -> None:
    stored = brokers([("B0000001", 10), ("B0000002", 20)], "r1")
    m = merge_records(BROKERS, stored, brokers([("B0000002", 20)], "r2"))
    assert (m.inserted, m.updated, m.unchanged) == (0, 0, 1)
    assert m.current["_run_id"].tolist() == ["r1", "r1"] and m.superseded.empty


def test_correction_replaces_and_keeps_history() -> None:
    stored = brokers([("B0000001", 10), ("B0000002", 20)], "r1")
    m = merge_records(BROKERS, stored, brokers([("B0000002", 25), ("B0000003", 5)], "r2"))
    assert (m.inserted, m.updated, m.unchanged) == (1, 1, 0)
    cur = m.current.set_index("broker_id")
    assert cur.loc["B0000002", "training_hours"] == 25 and cur.loc["B0000002", "_run_id"] == "r2"
    assert len(cur) == 3
    superseded = m.superseded[["broker_id", "training_hours", "_run_id"]].values.tolist()
    assert superseded == [["B0000002", 20, "r1"]]


def test_last_version_in_a_run_wins_earlier_ones_go_to_history() -> None:
    incoming = pd.concat([brokers([("B0000001", 1)], "r1"), brokers([("B0000001", 1)], "r1"),
                          brokers([("B0000001", 2)], "r1")], ignore_index=True)
    m = merge_records(BROKERS, brokers([], "r0"), incoming)
    assert m.current["training_hours"].tolist() == [2] and m.inserted == 1
    assert m.superseded["training_hours"].tolist() == [1]  # identical repeats are not history
