"""What a check puts on record beside its row: a contract registered red queues its institution
and broker for a same-day re-score; anything else queues nobody."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from models.rules.tier import Tier
from models.scoring import ModelRef
from service.core.contracts.check import RESCORES, rescores
from service.core.contracts.checker import CheckResult

RED = CheckResult("C1", date(2020, 7, 15), 0.9, Tier.red, (), (),
                  ModelRef("techcredit-anomaly", "1", "champion"), True, "I1", "B1", "110000")


def test_a_registered_red_contract_queues_its_institution_and_broker() -> None:
    rows = rescores(RED)
    assert all(r.table is RESCORES for r in rows)
    assert [dict(r.values) for r in rows] == [
        {"entity_kind": k, "entity_id": e, "cause": "red_contract", "cause_id": "C1",
         "day": date(2020, 7, 15)} for k, e in (("institution", "I1"), ("broker", "B1"))]


def test_no_request_for_a_dry_run_another_tier_or_a_missing_party() -> None:
    assert rescores(replace(RED, registered=False)) == []
    assert rescores(replace(RED, tier=Tier.orange)) == []
    assert rescores(replace(RED, tier=None)) == []
    assert [r.values["entity_kind"] for r in rescores(replace(RED, broker_id=None))] == [
        "institution"]
