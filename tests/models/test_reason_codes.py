"""Every credit feature has a reason code or is declared no reason; the kind and pure
attributes never are."""

from __future__ import annotations

import pytest

from models.panels import credit_feature_names
from models.reason_codes import (
    BY_CODE,
    CODES,
    STEMS,
    code_of,
    lever_of,
    render_reason_codes_doc,
    stem,
    undeclared,
)


def test_every_credit_feature_is_declared() -> None:
    assert undeclared(credit_feature_names()) == []
    with pytest.raises(KeyError, match="reason code"):
        code_of("inst_brand_new_measure_365d")


def test_the_kind_and_attributes_without_evidence_are_not_reasons() -> None:
    for name in ("entity_kind", "brk_training_hours", "brk_cert_rank", "brk_affiliated",
                 "inst_national", "inst_staff", "inst_tenure_days", "brk_contracts_30d"):
        assert code_of(name) is None, name
    assert code_of("inst_conduct_365d").code == "C01"
    assert code_of("brk_split_share_365d").code == "C04"
    assert code_of("inst_anomaly_expected_all").code == "C11"


def test_stems_strip_entity_and_window() -> None:
    assert stem("inst_report_gap_max_1095d") == "report_gap_max"
    assert stem("brk_days_since_conduct_all") == "days_since_conduct"
    assert stem("inst_report_age_days") == "report_age_days"


def test_levers_belong_to_actionable_codes_and_history_has_none() -> None:
    for s, (code, lever) in STEMS.items():
        if lever is not None:
            assert BY_CODE[code].actionable, s
    assert lever_of("inst_conduct_all") is None and lever_of("inst_warned") is None
    assert lever_of("inst_trained_share").better == 1.0
    assert lever_of("brk_training_hours") is None


def test_every_code_speaks_both_languages_and_the_doc_lists_them() -> None:
    doc = render_reason_codes_doc()
    for c in CODES:
        assert all((c.zh, c.en, c.action_zh, c.action_en)), c.code
        assert f"| {c.code} |" in doc


def test_docs_reason_codes_md_is_generated_from_the_declarations() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "reason-codes.md"
    assert doc.read_text(encoding="utf-8") == render_reason_codes_doc(), (
        "docs/reason-codes.md is stale: run `techcredit docs`")
