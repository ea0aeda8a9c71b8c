"""The two kinds of rule: each shipped file loads through its kind, and neither kind's reader
takes the other's file."""

from __future__ import annotations

import pytest

from models.declared import DeclarationError, load
from models.rules.kinds import CONTRACT, ENTITY, KINDS
from models.rules.tier import Tier


def test_both_kinds_load_their_shipped_file() -> None:
    assert list(KINDS) == ["contract", "entity"]
    contract, entity = load(CONTRACT.file, CONTRACT.parse), load(ENTITY.file, ENTITY.parse)
    assert CONTRACT.file.name == "contract.toml" and ENTITY.file.name == "entity.toml"
    assert CONTRACT.file.parent == ENTITY.file.parent  # both in the rules package
    assert contract.rules and entity.rules and contract.sha256 != entity.sha256
    assert {r.tier for r in contract.rules} | {r.tier for r in entity.rules} <= set(Tier)


def test_a_file_of_one_kind_is_refused_as_the_other() -> None:
    with pytest.raises(DeclarationError, match="entity.toml: unknown top-level key 'anomaly'"):
        load(ENTITY.file, CONTRACT.parse)
    with pytest.raises(DeclarationError, match="contract.toml: anomaly: required table"):
        load(CONTRACT.file, ENTITY.parse)
