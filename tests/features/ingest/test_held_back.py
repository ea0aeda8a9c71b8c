"""Every rule id the queue records falls in one reason class, and a row counts once, in the
class that decides what brings it in."""

from __future__ import annotations

from features.ingest.held_back import CLASSES, count_rows, row_class, rule_class


def test_each_recorded_rule_has_its_class() -> None:
    assert {r: rule_class(r).code for r in (
        "parse:amount_yuan", "not null:region", "in set:region", "range:training_hours",
        "pattern:broker_id", "not in future:signed_date", "not before:signed_date",
        "rule tech_within_amount:tech_amount_yuan", "unique:contract_id",
        "foreign key:institution_id", "stale", "irreversible", "malformed row",
    )} == {
        "parse:amount_yuan": "validation", "not null:region": "validation",
        "in set:region": "validation", "range:training_hours": "validation",
        "pattern:broker_id": "validation", "not in future:signed_date": "validation",
        "not before:signed_date": "validation",
        "rule tech_within_amount:tech_amount_yuan": "validation",
        "unique:contract_id": "duplicate", "foreign key:institution_id": "reference",
        "stale": "stale", "irreversible": "irreversible", "malformed row": "malformed",
    }


def test_a_row_counts_once_in_the_class_that_decides() -> None:
    # a bad amount and an unknown institution: fixing the reference would not load it
    assert row_class("range:amount_yuan;foreign key:institution_id").code == "validation"
    assert row_class("unique:contract_id;foreign key:broker_id").code == "duplicate"
    assert row_class("foreign key:institution_id;foreign key:broker_id").code == "reference"
    rows = ["range:a;foreign key:b", "foreign key:b", "foreign key:c", "stale", "malformed row"]
    counts = count_rows(rows)
    assert counts == {"malformed": 1, "validation": 1, "reference": 2, "stale": 1}
    assert sum(counts.values()) == len(rows)
    assert list(counts) == [c.code for c in CLASSES if c.code in counts]  # class order


def test_every_class_speaks_both_languages() -> None:
    for c in CLASSES:
        assert c.zh and c.en and c.remedy_zh and c.remedy_en
        assert c.zh in c.label() and c.en in c.label() and c.remedy_en in c.remedy()
