"""The default rules on small hand-built registries, through the real feature builders.

A 3-cycle and a 5-cycle are flagged, an annual report 2.5 times the register is a warning
reason on its own, a newcomer's outsized contract is flagged, and a large university with
steady, diverse contracts is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.build import build_features
from features.point_in_time.contract import contract_features
from features.point_in_time.history import prepare
from models.declared import load
from models.rules.contract import CONTRACT_RULES, ContractRules, parse_contract_rules
from models.rules.evaluate import evaluate_contracts, evaluate_entities
from tests.features.point_in_time.test_build import _contract, hand_market


@pytest.fixture(scope="module")
def rules() -> ContractRules:
    return load(CONTRACT_RULES, parse_contract_rules)


def _ring(prefix: str, parties: list[str], start: str, step_days: int, amount: float
          ) -> list[dict]:
    out = []
    for k, seller in enumerate(parties):
        reg = pd.Timestamp(start) + pd.Timedelta(days=step_days * k)
        out.append(_contract(f"{prefix}{k:03d}", seller, parties[(k + 1) % len(parties)],
                             reg.strftime("%Y-%m-%d"), amount * 0.98**k, inst=None))
    return out


@pytest.fixture(scope="module")
def registry() -> dict[str, pd.DataFrame]:
    """A university selling steadily to 240 firms in 2019-2020, two rings, a newcomer, and an
    institution (I001) facilitating 2019 contracts worth 4 million in all."""
    rng = np.random.default_rng(3)
    honest = []
    for i in range(900):
        reg = pd.Timestamp("2019-01-02") + pd.Timedelta(days=int(i * 0.8))
        honest.append(_contract(f"CU{i:04d}", "U1", f"F{i % 240:03d}", reg.strftime("%Y-%m-%d"),
                                float(rng.lognormal(12.5, 1.0)),
                                ctype=("service", "development", "consulting")[i % 3], inst=None))
    for j in range(30):  # the university buys too: small services, and old similar deals
        honest.append(_contract(f"CB{j:03d}", f"F{j:03d}", "U1", "2020-03-15", 2e3 + j, inst=None))
        honest.append(_contract(f"CO{j:03d}", f"F{j:03d}", "U1", "2017-06-01", 3e5, inst=None))
    for j in range(4):
        honest.append(_contract(f"CI{j:03d}", f"G{j}", f"H{j}", f"2019-0{j + 2}-10", 1e6))
    contracts = (honest + _ring("CR", ["R1", "R2", "R3"], "2020-03-01", 7, 1e6)
                 + _ring("CL", ["L1", "L2", "L3", "L4", "L5"], "2020-02-01", 40, 2e6)
                 + [_contract("CN0001", "NEW1", "F001", "2020-11-20", 9e7, inst=None)])
    tables = hand_market()
    tables["contracts"] = pd.DataFrame(contracts)
    reports = tables["institution_reports"].iloc[:1].copy()  # I001's report for 2019
    reports["amount_reported_yuan"] = 2.5 * 4e6
    reports["contracts_reported"] = 4
    reports["submitted_date"] = pd.Timestamp("2020-03-15")
    tables["institution_reports"] = reports
    return tables


@pytest.fixture(scope="module")
def contract_hits(registry: dict[str, pd.DataFrame], rules: ContractRules) -> pd.DataFrame:
    h = prepare(registry)
    feats = contract_features(h, np.arange(len(h.contracts)))
    keys = registry["contracts"][["contract_id", "seller_id", "buyer_id", "broker_id",
                                  "institution_id"]]
    frame = feats.merge(keys, on="contract_id", how="left", validate="one_to_one")
    return evaluate_contracts(rules, frame)


def test_the_rings_close_and_are_flagged(contract_hits: pd.DataFrame) -> None:
    cycles = contract_hits[contract_hits["rule_id"] == "cycle_close"]
    assert set(cycles["id"]) == {"CR002", "CL004"}  # the closing legs, nothing else
    reason = cycles.set_index("id").loc["CL004"]
    assert reason["tier"] == "orange" and "5" in reason["en"] and "5方" in reason["zh"]


def test_a_newcomers_outsized_contract_is_flagged(contract_hits: pd.DataFrame) -> None:
    new = contract_hits[contract_hits["rule_id"] == "newcomer_outsized"]
    assert new["id"].tolist() == ["CN0001"]


def test_the_large_honest_university_is_not_flagged(contract_hits: pd.DataFrame) -> None:
    assert not contract_hits["id"].str.match(r"C[UBO]").any()


def test_a_report_two_and_a_half_times_the_registry_is_a_warning_reason(
        registry: dict[str, pd.DataFrame], rules: ContractRules) -> None:
    inst = build_features(registry, "2020-06-30")["institution"]
    row = inst.set_index("entity_id").loc["I001"]
    assert row["inst_report_amount_gap"] == pytest.approx(np.log((1e7 + 1) / (4e6 + 1)))
    assert (row["inst_report_gap_max_1095d"], row["inst_report_gap_years_1095d"]) == (
        pytest.approx(np.log(2.5), abs=1e-6), 1)
    hits = evaluate_entities(rules, "institution", inst)
    assert hits[hits["rule_id"] == "report_gap"]["id"].tolist() == ["I001"]
    assert hits.iloc[0]["tier"] == "orange"
