"""A rule hit in a check's answer carries its rule's tier under the field name ``severity``."""

from __future__ import annotations

from service.core.contracts.schemas import CheckOut, HitOut


def test_a_hit_answers_with_a_tier_value() -> None:
    hit = HitOut(rule_id="cycle_close", severity="orange", zh="循环", en="cycle")
    assert hit.model_dump(mode="json")["severity"] == "orange"
    schema = CheckOut.model_json_schema()
    tier = schema["$defs"]["Tier"]
    assert tier["enum"] == ["red", "orange", "yellow", "blue"]
    assert HitOut.model_json_schema()["properties"]["severity"]["$ref"].endswith("/Tier")
