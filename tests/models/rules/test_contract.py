"""The contract rule file: the shipped one is valid; every mistake is one line naming file, rule,
field."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.point_in_time.catalogue import names_of
from models.declared import DeclarationError, load
from models.rules.contract import ContractRules, parse_contract_rules

DEFAULT = Path(__file__).resolve().parents[3] / "models" / "rules" / "contract.toml"
GOOD = """
[[rule]]
id = "r1"
entity = "contract"
when = "ctr_pair_same_day >= 2"
tier = "yellow"
zh = "同日{ctr_pair_same_day:.0f}份"
en = "{ctr_pair_same_day:.0f} the same day"
"""


def _parse(text: str) -> ContractRules:
    return parse_contract_rules(text.encode("utf-8"), "rules.toml")


def load_rules(path: Path) -> ContractRules:
    return load(path, parse_contract_rules)


def test_the_default_file_reads_only_declared_features() -> None:
    rules = load_rules(DEFAULT)
    assert rules.version == 2 and len(rules.sha256) == 64
    assert {r.id for r in rules.rules} == {
        "cycle_close", "quick_reciprocal", "same_day_split", "newcomer_outsized", "broker_burst",
        "threshold_repeat", "report_gap", "broker_spike"}
    for r in rules.rules:
        assert set(r.when.names) | set(r.reason_names) <= set(names_of(r.entity))
    repeat = next(r for r in rules.rules if r.id == "threshold_repeat")
    assert repeat.window is not None and (repeat.window.per, repeat.window.days,
                                          repeat.window.min_hits) == ("seller", 30, 3)


def test_reasons_are_formatted_from_the_row() -> None:
    rules = load_rules(DEFAULT)
    cycle = next(r for r in rules.rules if r.id == "cycle_close")
    zh, en = cycle.reasons({"ctr_cycle_len": 4.0, "ctr_cycle_amount_ratio": 0.912})
    assert "4方" in zh and en.startswith("closes a circular flow of 4 parties") and "0.91" in en


def test_the_sha256_is_of_the_bytes() -> None:
    a, b = _parse("version = 1\n" + GOOD), _parse("version = 1\n\n" + GOOD)
    assert a.sha256 != b.sha256 and a.rules == b.rules


def _with(**changes: str) -> str:
    lines = []
    for line in GOOD.strip().splitlines():
        key = line.split(" = ")[0]
        lines.append(f"{key} = {changes.pop(key)}" if key in changes else line)
    lines += [f"{k} = {v}" for k, v in changes.items()]
    return "version = 1\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "message"), [
    (_with(when='"ctr_nope >= 1"'), "rule 'r1': when: unknown feature 'ctr_nope'"),
    (_with(when='"inst_staff >= 1"'), "rule 'r1': when: unknown feature 'inst_staff'"),
    (_with(entity='"party"'), "rule 'r1': entity: unknown entity 'party'"),
    (_with(tier='"critical"'), "rule 'r1': tier: 'critical' is not one of red, orange, yellow,"),
    (_with(tier='"high"'), "rule 'r1': tier: 'high' is not one of"),
    (_with(when='"ctr_pair_same_day >="'), "rule 'r1': when: cannot parse"),
    (_with(when='"ctr_pair_same_day + 1"'), "rule 'r1': when: 'ctr_pair_same_day + 1' is a num"),
    (_with(en='"{ctr_missing:.1f}"'), "rule 'r1': en: placeholder {ctr_missing} names no"),
    (_with(zh='"{ctr_pair_same_day:.1q}"'), "rule 'r1': zh: bad placeholder format"),
    (_with(zh='"{}"'), "rule 'r1': zh: placeholder {} names no feature"),
    (_with(per='"seller"'), "rule 'r1': window_days: a window needs per, window_days and min"),
    (_with(per='"office"', window_days="30", min_hits="2"), "rule 'r1': per: 'office' is not"),
    (_with(per='"seller"', window_days="0", min_hits="2"), "rule 'r1': window_days: must be an"),
    (_with(per='"seller"', window_days="30", min_hits="0"), "rule 'r1': min_hits: must be an"),
    (_with(entity='"broker"', when='"brk_spike_ratio_30d >= 5"', zh='"x"', en='"x"',
           window_days="30"), "rule 'r1': window_days: a broker rule takes no window"),
    (_with(colour='"red"'), "rule 'r1': colour: unknown field"),
    (_with(id='"Bad-Id"'), "rule #1: id: must be snake_case"),
    ("version = 1\n" + GOOD + GOOD, "rule 'r1': id: duplicate id"),
    (GOOD, "version: must be an integer >= 1, got None"),
    ('version = "2"\n' + GOOD, "version: must be an integer >= 1, got '2'"),
    ("version = 1\n[[rule]\n", "not valid TOML"),
])
def test_a_bad_file_is_one_line_naming_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(DeclarationError) as e:
        _parse(text)
    assert str(e.value).startswith("rules.toml: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="nothing.toml: cannot read"):
        load_rules(tmp_path / "nothing.toml")
