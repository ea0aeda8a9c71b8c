"""The catalogue is the single declaration: lookups, wording, and the generated doc."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.point_in_time.catalogue import (
    FEATURES,
    feature,
    features_of,
    names_of,
    render_features_doc,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "features.md"


def test_docs_features_md_is_generated_from_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == render_features_doc(), (
        "docs/features.md is stale: run `techcredit docs`")


def test_every_feature_has_wording_and_a_direction() -> None:
    assert len({f.name for f in FEATURES}) == len(FEATURES)
    for f in FEATURES:
        assert f.zh and f.en and f.definition and f.risk_direction in (-1, 0, 1)
    assert feature("inst_conduct_all").risk_direction == 1
    assert feature("inst_contracts_90d").window_days == 90
    assert feature("inst_contracts_90d").zh == "促成合同数(近90天)"
    assert feature("ctr_peer_z").en == "amount against peers (z-score)"
    with pytest.raises(KeyError):
        feature("no_such_feature")


def test_families_cover_the_issue() -> None:
    families = {e: {f.family for f in features_of(e)} for e in ("institution", "broker")}
    assert families["institution"] >= {
        "activity", "concentration", "integrity", "capacity", "conduct"
    }
    assert families["broker"] >= {"activity", "broker", "conduct"}
    assert {f.family for f in features_of("contract")} == {
        "amount", "history", "network", "newcomer"}
    assert len(names_of("contract")) == 37
