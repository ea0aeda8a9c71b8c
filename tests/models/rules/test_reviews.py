"""Rule reviews in MLflow: only a tried file is approved, versions only go up, nothing is
edited, and the rule set in force is read back from the approval itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.registry import Store
from models.rules.contract import ContractRules, parse_contract_rules
from models.rules.reviews import RulesRefused, active_rules, history, record_try, review

RULE = """
[[rule]]
id = "split"
entity = "contract"
when = "ctr_pair_same_day >= {n}"
tier = "yellow"
zh = "同日拆分"
en = "same-day split"
"""


def _rules(version: int, n: int = 2) -> ContractRules:
    return parse_contract_rules(f"version = {version}\n{RULE.format(n=n)}".encode(),
                                f"v{version}.toml")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path}/mlflow.db", (tmp_path / "artifacts").as_uri())


def test_the_review_workflow_is_kept_and_enforced(store: Store) -> None:
    v1, v2, v2b = _rules(1), _rules(2, 3), _rules(2, 4)
    assert active_rules(store) is None and history(store) == []
    with pytest.raises(RulesRefused, match="v1.toml .* was never tried"):
        review(store, v1, reviewer="王审", note="looks fine", approve=True)
    with pytest.raises(RulesRefused, match="reviewer's name and a note"):
        review(store, v1, reviewer="王审", note=" ", approve=True)
    record_try(store, v1, {"summary.txt": "split 3 hits"}, {"split.hits": 3.0}, {"hits": "3"})
    approved = review(store, v1, reviewer="王审", note="tried on 2020", approve=True)
    assert approved.record is not None and approved.record.outcome == "approved"
    active = active_rules(store)
    assert active is not None and active.sha256 == v1.sha256 and active.rules == v1.rules
    assert active.source.startswith("runs:/")
    again = review(store, v1, reviewer="李审", note="again", approve=True)
    assert again.record is None and "already in force" in again.message

    record_try(store, v2, {}, {}, {"hits": "1"})
    rejected = review(store, v2, reviewer="李审", note="too narrow", approve=False)
    assert rejected.record is not None and active_rules(store).sha256 == v1.sha256
    review(store, v2, reviewer="李审", note="accepted after all", approve=True)
    assert active_rules(store).version == 2
    record_try(store, v2b, {}, {}, {})
    with pytest.raises(RulesRefused, match="version 2 is not above v2 in force"):
        review(store, v2b, reviewer="李审", note="same version", approve=True)

    kept = history(store)
    assert [(r.kind, r.version, r.outcome) for r in kept] == [
        ("try", 1, ""), ("review", 1, "approved"), ("try", 2, ""), ("review", 2, "rejected"),
        ("review", 2, "approved"), ("try", 2, "")]
    assert kept[1].reviewer == "王审" and kept[1].note == "tried on 2020"
    assert kept[0].hits == "3"
