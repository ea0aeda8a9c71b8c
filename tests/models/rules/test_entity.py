"""The entity rule file: a bad one is refused in one line that names the rule and the field;
another file replaces the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.declared import DeclarationError, load
from models.rules.entity import EntityRules, WarningInputs, parse_entity_rules
from models.rules.warn import warn


def load_rules(path: Path) -> EntityRules:
    return load(path, parse_entity_rules)


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
    with pytest.raises(DeclarationError) as e:
        parse_entity_rules(text.encode(), "mine.toml")
    assert str(e.value).startswith("mine.toml: ") and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_another_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(HEAD + GOOD_RULE.replace("grade == D", "grade >= B"), "utf-8")
    rules = load_rules(path)
    assert [r.code for r in rules.rules] == ["grade_d"] and len(rules.sha256) == 64
    [alert] = warn(rules, [WarningInputs(560.0, 0.05, "B", None, None)])
    assert alert is not None and (alert.tier, alert.codes) == ("orange", ("grade_d",))
    with pytest.raises(DeclarationError, match="missing.toml: cannot read"):
        load_rules(tmp_path / "missing.toml")
