"""Rule reviews in MLflow: only a tried file is approved, versions only go up, nothing is
edited, and the rule set in force is read back from the approval itself; each kind of rule on
its own, and before any approval the file of that kind is in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.settings import Settings
from models.registry import Tracking, tracking_for
from models.rules.contract import CONTRACT_RULES, ContractRules, parse_contract_rules
from models.rules.entity import ENTITY_RULES, EntityRules, parse_entity_rules
from models.rules.kinds import CONTRACT, ENTITY
from models.rules.reviews import (
    RulesRefused,
    active_rules,
    active_rules_sha,
    history,
    in_force,
    record_try,
    review,
)

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
def tracking(tmp_path: Path) -> Tracking:
    return Tracking(f"sqlite:///{tmp_path}/mlflow.db", (tmp_path / "artifacts").as_uri())


def test_the_review_workflow_is_kept_and_enforced(tracking: Tracking) -> None:
    v1, v2, v2b = _rules(1), _rules(2, 3), _rules(2, 4)
    assert active_rules(tracking, CONTRACT) is None and history(tracking, CONTRACT) == []
    with pytest.raises(RulesRefused, match="v1.toml .* was never tried as contract rules"):
        review(tracking, CONTRACT, v1, reviewer="王审", note="looks fine", approve=True)
    with pytest.raises(RulesRefused, match="reviewer's name and a note"):
        review(tracking, CONTRACT, v1, reviewer="王审", note=" ", approve=True)
    record_try(tracking, CONTRACT, v1, {"summary.txt": "split 3 hits"}, {"split.hits": 3.0},
               {"hits": "3"})
    approved = review(tracking, CONTRACT, v1, reviewer="王审", note="tried on 2020", approve=True)
    assert approved.record is not None and approved.record.outcome == "approved"
    active = active_rules(tracking, CONTRACT)
    assert active is not None and active.sha256 == v1.sha256 and active.rules == v1.rules
    assert active.source.startswith("runs:/")
    again = review(tracking, CONTRACT, v1, reviewer="李审", note="again", approve=True)
    assert again.record is None and "already in force" in again.message

    record_try(tracking, CONTRACT, v2, {}, {}, {"hits": "1"})
    rejected = review(tracking, CONTRACT, v2, reviewer="李审", note="too narrow", approve=False)
    assert rejected.record is not None and active_rules(tracking, CONTRACT).sha256 == v1.sha256
    review(tracking, CONTRACT, v2, reviewer="李审", note="accepted after all", approve=True)
    assert active_rules(tracking, CONTRACT).version == 2
    record_try(tracking, CONTRACT, v2b, {}, {}, {})
    with pytest.raises(RulesRefused, match="version 2 is not above v2 of the contract rules in"):
        review(tracking, CONTRACT, v2b, reviewer="李审", note="same version", approve=True)

    kept = history(tracking, CONTRACT)
    assert [(r.kind, r.version, r.outcome) for r in kept] == [
        ("try", 1, ""), ("review", 1, "approved"), ("try", 2, ""), ("review", 2, "rejected"),
        ("review", 2, "approved"), ("try", 2, "")]
    assert kept[1].reviewer == "王审" and kept[1].note == "tried on 2020"
    assert kept[0].hits == "3"


ENTITY_RULE = """
version = {version}
[anomaly]
threshold = 0.2
window_days = 365
[[rule]]
code = "grade_d"
tier = "{tier}"
when = "grade == D"
zh = "D级"
en = "grade D"
"""


def _entity(version: int, tier: str = "orange") -> EntityRules:
    text = ENTITY_RULE.format(version=version, tier=tier)
    return parse_entity_rules(text.encode(), f"entity-v{version}.toml")


def test_entity_rules_are_tried_and_reviewed_apart_from_contract_rules(tracking: Tracking) -> None:
    e1, c1 = _entity(1), _rules(1)
    # a contract try does not let entity rules of the same version through, nor the reverse
    record_try(tracking, CONTRACT, c1, {}, {}, {"hits": "4"})
    with pytest.raises(RulesRefused, match="never tried as entity rules: run `techcredit rules "
                                           "try --kind entity entity-v1.toml` first"):
        review(tracking, ENTITY, e1, reviewer="王审", note="ok", approve=True)
    record_try(tracking, ENTITY, e1, {"summary.txt": "grade_d 2 hits"}, {"grade_d.broker.hits": 2},
               {"hits": "2"})
    assert review(tracking, ENTITY, e1, reviewer="王审", note="tried on 2020",
                  approve=True).message == (
        f"entity rules v1 ({e1.sha256[:12]}) approved by 王审")
    back = active_rules(tracking, ENTITY)
    assert back is not None and back.sha256 == e1.sha256 and back.rules == e1.rules
    assert back.anomaly == e1.anomaly and back.source.startswith("runs:/")
    assert active_rules(tracking, CONTRACT) is None  # still none approved of that kind
    assert active_rules_sha(tracking, ENTITY) == e1.sha256
    assert not active_rules_sha(tracking, CONTRACT)
    # the contract rules' versions do not hold the entity rules back, nor the reverse
    review(tracking, CONTRACT, c1, reviewer="李审", note="contract too", approve=True)
    e2 = _entity(2, tier="red")
    record_try(tracking, ENTITY, e2, {}, {}, {"hits": "2"})
    review(tracking, ENTITY, e2, reviewer="李审", note="stricter", approve=True)
    assert active_rules(tracking, ENTITY).rules[0].tier == "red"
    assert active_rules(tracking, CONTRACT).sha256 == c1.sha256
    assert [(r.kind, r.rule_kind, r.version) for r in history(tracking, ENTITY)] == [
        ("try", "entity", 1), ("review", "entity", 1), ("try", "entity", 2),
        ("review", "entity", 2)]
    assert [r.rule_kind for r in history(tracking)] == [
        "contract", "entity", "entity", "contract", "entity", "entity"]


def test_before_any_approval_each_kind_runs_its_file(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    contract, entity = in_force(settings, CONTRACT), in_force(settings, ENTITY)
    assert not contract.approved and contract.rules.source == str(CONTRACT_RULES)
    assert not entity.approved and entity.rules.source == str(ENTITY_RULES)
    assert contract.note == f"default rules v{contract.rules.version} (not yet approved)"
    mine = tmp_path / "mine.toml"
    mine.write_text(ENTITY_RULE.format(version=5, tier="yellow"), "utf-8")
    chosen = Settings(home=tmp_path / "home", warnings={"rules": mine})  # TECHCREDIT_WARNING_RULES
    assert in_force(chosen, ENTITY).rules.version == 5
    e6 = parse_entity_rules(ENTITY_RULE.format(version=6, tier="blue").encode(), "e6.toml")
    tracking = tracking_for(chosen)
    record_try(tracking, ENTITY, e6, {}, {}, {})
    review(tracking, ENTITY, e6, reviewer="王审", note="ok", approve=True)
    approved = in_force(chosen, ENTITY)  # an approval outranks the file the settings name
    assert approved.approved and approved.rules.version == 6
    assert approved.note == "approved rules v6" and not in_force(chosen, CONTRACT).approved
