"""Every word a console page shows comes from the one table, in both languages: a key a
template asks for and the table lacks would render as a blank, so it fails here instead."""

from __future__ import annotations

import re
from pathlib import Path

from models.monitoring.drift import Level
from models.registry import Outcome
from service.core.assessments.tables import AssessmentState
from service.core.cases.machine import TRANSITIONS, Action
from service.core.cases.schemas import MEASURES
from service.web.console.messages import WORDS, words
from service.web.console.render import event_label
from service.web.console.views_assessments import OUTCOMES

TEMPLATES = Path(__file__).parents[4] / "service" / "web" / "console" / "templates"
# keys built in a template from a value: the prefix and every value it can take
DYNAMIC = {"outcome_": (*OUTCOMES, *(o.value for o in Outcome)),
           "assessment_": tuple(s.value for s in AssessmentState),
           "measure_": MEASURES, "evidence_": ("warning", "manual"),
           "level_": tuple(v.value for v in Level)}


def _asked() -> dict[str, set[str]]:
    """Per template, the keys of ``w`` it reads (``w.key`` and ``w['prefix_' ~ value]``)."""
    found: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        keys = set(re.findall(r"\bw\.([a-z_]+)", text))
        for prefix in re.findall(r"\bw\[\s*'([a-z_]+)'\s*~", text):
            keys |= {prefix + v for v in DYNAMIC[prefix]}
        found[path.name] = keys
    return found


def test_every_key_a_template_reads_is_in_the_table() -> None:
    missing = {name: sorted(keys - WORDS.keys()) for name, keys in _asked().items()
               if keys - WORDS.keys()}
    assert missing == {}


def test_the_templates_read_many_keys_so_the_scan_is_not_empty() -> None:
    asked = _asked()
    assert {"rank", "total", "year", "contract_id", "outcome_exit", "assessment_draft",
            "measure_revoke_tax_relief", "assign", "market_index"} <= set().union(*asked.values())


def test_no_template_carries_its_own_translation() -> None:
    inline = {p.name for p in TEMPLATES.glob("*.html")
              if re.search(r"if lang == '(en|zh)' else '[^'<]*[\u4e00-\u9fff]",
                           p.read_text(encoding="utf-8"))
              or re.search(r"[\u4e00-\u9fff][^']*' if lang == 'zh' else", p.read_text(
                  encoding="utf-8"))}
    assert inline == set()


def test_both_languages_have_every_word() -> None:
    zh, en = words("zh"), words("en")
    assert [k for k in WORDS if not zh[k].strip() or not en[k].strip()] == []
    # the Chinese side is Chinese, except the switch's own label and codes shown as they are
    latin = [k for k, v in zh.items() if not re.search(r"[\u4e00-\u9fff]", v)]
    assert latin == ["language"]


def test_every_case_event_reads_in_both_languages() -> None:
    written = ["open", "merge", "assign", "attach_file", "add_measure",
               *(a.value for a in Action),
               *(f"propose:{t.action.value}" for t in TRANSITIONS if t.four_eyes)]
    zh = {a: event_label(a, "zh") for a in written}
    assert [a for a, label in zh.items() if not re.search(r"[\u4e00-\u9fff]", label)] == []
    assert (zh["investigate"], event_label("investigate", "en")) == ("立案核查", "investigate")
    assert event_label("propose:determine", "en").startswith("proposed")
    assert event_label("attach_file", "en") == "file attached"
