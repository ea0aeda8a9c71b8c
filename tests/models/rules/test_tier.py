"""The one warning tier: ordered by severity, spoken as its value, named in Chinese."""

from __future__ import annotations

import json

from models.rules.tier import Tier


def test_tiers_are_ordered_by_severity_not_alphabetically() -> None:
    assert list(Tier) == ["red", "orange", "yellow", "blue"]  # most severe first
    assert Tier.red > Tier.orange > Tier.yellow > Tier.blue
    assert Tier.blue < Tier.yellow <= Tier.yellow < Tier.orange
    assert max(Tier.blue, Tier.orange, Tier.yellow) is Tier.orange
    assert sorted(["blue", "red", "yellow", "orange"], key=Tier) == [
        "blue", "yellow", "orange", "red"]
    assert Tier.red > "blue" and Tier.blue < "orange"  # a stored value compares as a tier


def test_a_tier_is_its_text_wherever_it_goes() -> None:
    assert Tier("orange") is Tier.orange and Tier.orange == "orange"
    assert json.dumps({"tier": Tier.red}) == '{"tier": "red"}'
    assert f"{Tier.yellow:<7}|" == "yellow |" and str(Tier.blue) == "blue"
    assert [t.zh for t in Tier] == ["红色", "橙色", "黄色", "蓝色"]
