"""The evidence benchmark's pure parts: ranks within a kind, and the burst it injects."""

from __future__ import annotations

import pandas as pd

from benchmarks.bench_evidence import Standing, burst, standings
from models.repair import Repair
from models.scoring import EntityScore, ModelRef

REF = ModelRef("techcredit-credit", "1", "champion")


def _score(kind: str, entity_id: str, p: float) -> EntityScore:
    return EntityScore(entity_id, kind, pd.Timestamp("2020-12-31"), p, 600.0, "C", (), REF, REF,
                       Repair("C", "B", False, (), p, p, 600.0))


def test_ranks_count_the_riskier_of_the_same_kind_only() -> None:
    ranked = standings([_score("broker", "B1", 0.1), _score("broker", "B2", 0.3),
                        _score("broker", "B3", 0.3), _score("institution", "I1", 0.05)])
    assert ranked[("broker", "B2")] == ranked[("broker", "B3")] == Standing(0.3, 1)
    assert ranked[("broker", "B1")] == Standing(0.1, 3)
    assert ranked[("institution", "I1")] == Standing(0.05, 1)


def test_a_burst_trades_one_amount_back_and_forth_with_a_party_on_record() -> None:
    contracts = pd.DataFrame({
        "contract_id": ["C1"], "registered_date": ["2020-06-01"], "signed_date": ["2020-05-30"],
        "seller_id": ["E1"], "buyer_id": ["E2"], "institution_id": ["I1"], "broker_id": ["B1"],
        "amount_yuan": [5.0], "tech_amount_yuan": [5.0], "status": ["registered"],
        "status_date": [None], "status_basis": [None]})
    records = pd.DataFrame({"subject_kind": ["party"], "subject_id": ["E9"]})
    day = pd.Timestamp("2020-12-31")
    out = burst({"contracts": contracts, "conduct_records": records}, "B1", "I1", 4, day, 0)
    assert list(zip(out["seller_id"], out["buyer_id"], strict=True)) == [
        ("E9", "E1"), ("E1", "E9"), ("E9", "E1"), ("E1", "E9")]
    assert set(out["amount_yuan"]) == {1_020_000.0} and set(out["registered_date"]) == {day.date()}
    assert out["contract_id"].is_unique and set(out["broker_id"]) == {"B1"}
