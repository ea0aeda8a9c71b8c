"""Risk warning rules: the default tiers on constructed cases, anomaly shares, and a bad rule
file refused in one line that names the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.warning_rules import (
    DEFAULT_WARNING_RULES,
    AnomalyShare,
    AnomalyWindow,
    WarningInputs,
    WarningRuleError,
    WarningRules,
    anomaly_shares,
    evaluate,
    load_warning_rules,
    parse_warning_rules,
)


@pytest.fixture(scope="module")
def rules() -> WarningRules:
    return load_warning_rules()


def _one(rules: WarningRules, grade: str, previous: str | None = None, probability: float = 0.05,
         share: AnomalyShare | None = None, points: float = 560.0) -> tuple[str | None, tuple]:
    alert = evaluate(rules, [WarningInputs(points, probability, grade, previous, share)])[0]
    return (alert.tier, alert.codes) if alert else (None, ())


def test_default_rules_give_the_highest_tier_and_every_firing_rule(rules: WarningRules) -> None:
    assert rules.version >= 1 and rules.source == str(DEFAULT_WARNING_RULES)
    assert _one(rules, "A") == (None, ())
    assert _one(rules, "B", "B") == (None, ())
    assert _one(rules, "C") == ("blue", ("first_score_c",))
    assert _one(rules, "C", "C") == (None, ())
    assert _one(rules, "C", "B") == ("yellow", ("grade_drop_into_c",))
    assert _one(rules, "B", "A") == (None, ())  # one step, still above C
    assert _one(rules, "C", "A") == ("orange", ("grade_drop_two",))
    assert _one(rules, "D", "D", probability=0.2) == ("orange", ("grade_d",))
    assert _one(rules, "D", "D", probability=0.4) == ("red", ("grade_d_high_probability",))
    # every firing rule is listed, the most severe first
    assert _one(rules, "D", "A", probability=0.2, share=AnomalyShare(5, 0.2)) == (
        "orange", ("grade_drop_two", "grade_d", "anomaly_share_elevated"))
    assert _one(rules, "A", "A", share=AnomalyShare(4, 0.5)) == ("red", ("anomaly_share_high",))
    assert _one(rules, "A", "A", share=AnomalyShare(2, 1.0)) == (None, ())  # too few contracts
    assert _one(rules, "A", "A", share=AnomalyShare(10, 0.05)) == (None, ())


def test_reasons_are_formatted_in_both_languages(rules: WarningRules) -> None:
    [alert] = evaluate(rules, [WarningInputs(530.0, 0.35, "D", "B", AnomalyShare(4, 0.5))])
    assert alert is not None and alert.tier == "red"
    assert alert.codes == ("grade_d_high_probability", "anomaly_share_high", "grade_drop_two")
    assert alert.reasons_en[2] == "grade fell 2 steps, from B to D"
    assert alert.reasons_zh[2] == "信用等级由B降至D，下降2级"
    assert alert.reasons_en[1] == ("50% of its 4 contracts in 365 days have an anomaly "
                                   "probability of 20% or more")
    assert "35.0%" in alert.reasons_zh[0]
    assert len(alert.reasons_zh) == len(alert.reasons_en) == len(alert.codes)


def test_anomaly_share_counts_the_window_per_institution_and_broker() -> None:
    scores = pd.DataFrame({
        "contract_id": ["c1", "c2", "c3", "c4", "c5"],
        "registered_date": pd.to_datetime(
            ["2019-07-01", "2019-07-02", "2020-03-01", "2020-06-30", "2020-07-01"]),
        "institution_id": ["I1", "I1", "I1", "I1", None],
        "broker_id": [None, "B1", None, "B1", "B1"],
        "p_anomaly": [0.9, 0.9, 0.1, 0.2, 0.9],
    })
    shares = anomaly_shares(scores, pd.Timestamp("2020-06-30"), AnomalyWindow(0.2, 365))
    # 365 days back from 2020-06-30 (a leap year) is 2019-07-01: c1 is just out, c5 too late
    assert shares == {("institution", "I1"): AnomalyShare(3, pytest.approx(2 / 3)),
                      ("broker", "B1"): AnomalyShare(2, 1.0)}


GOOD_RULE = '''
[[rule]]
code = "grade_d"
tier = "orange"
when = "grade == D"
zh = "D级"
en = "grade D"
'''
HEAD = "version = 1\n[anomaly]\nthreshold = 0.2\nwindow_days = 365\n"


@pytest.mark.parametrize(("text", "message"), [
    (HEAD + GOOD_RULE.replace('"orange"', '"purple"'),
     "rule 'grade_d': tier: 'purple' is not one of red, orange, yellow, blue"),
    (HEAD + GOOD_RULE.replace("grade == D", "grade == E"), "rule 'grade_d': when: unknown feature"),
    (HEAD + GOOD_RULE.replace("grade == D", "grade"), "rule 'grade_d': when: 'grade' is a number"),
    (HEAD + GOOD_RULE.replace('"grade D"', '"grade {grade:.1f}"'),
     "rule 'grade_d': en: cannot format"),
    (HEAD + GOOD_RULE.replace('"D级"', '"{score}"'),
     "rule 'grade_d': zh: placeholder {score} is not an input"),
    (HEAD + GOOD_RULE.replace('zh = "D级"\n', ""), "rule 'grade_d': zh: required text"),
    (HEAD + GOOD_RULE.replace("code =", "severity = 'high'\ncode ="),
     "rule 'grade_d': severity: unknown field"),
    (HEAD + GOOD_RULE + GOOD_RULE, "rule 'grade_d': code: duplicate code"),
    (HEAD + GOOD_RULE.replace('"grade_d"', '"Grade D"'), "rule #1: code: must be snake_case"),
    (HEAD.replace("0.2", "20") + GOOD_RULE, "anomaly: threshold: must be a number from 0 to 1"),
    (HEAD.replace("version = 1", "version = 0") + GOOD_RULE, "version: must be an integer"),
    (HEAD.replace("[anomaly]", "[anomalies]") + GOOD_RULE, "unknown top-level key 'anomalies'"),
    (HEAD, "rule: write at least one rule"),
    (HEAD + "[[rule]\n", "not valid TOML"),
])
def test_a_bad_rule_file_is_one_line_naming_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(WarningRuleError) as e:
        parse_warning_rules(text.encode(), "mine.toml")
    assert str(e.value).startswith("mine.toml: ") and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_another_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(HEAD + GOOD_RULE.replace("grade == D", "grade >= B"), "utf-8")
    rules = load_warning_rules(path)
    assert [r.code for r in rules.rules] == ["grade_d"] and len(rules.sha256) == 64
    assert _one(rules, "B") == ("orange", ("grade_d",))
    with pytest.raises(WarningRuleError, match="missing.toml: cannot read"):
        load_warning_rules(tmp_path / "missing.toml")
