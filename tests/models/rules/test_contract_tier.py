"""Contract tiers: probability bands, raised (never lowered) by rule hits."""

from __future__ import annotations

import pytest

from models.rules.contract_tier import TierBands, contract_tier
from models.rules.evaluate import Hit
from models.rules.tier import Tier


def _hit(tier: Tier) -> Hit:
    return Hit("r", tier, "中", "en", "C1")


@pytest.mark.parametrize(("p", "tier"), [(0.6, "red"), (0.5, "red"), (0.3, "orange"),
                                         (0.1, "yellow"), (0.03, "blue"), (0.01, None)])
def test_probability_bands(p: float, tier: str | None) -> None:
    assert contract_tier(TierBands(), p, []) == tier


def test_a_hit_raises_the_tier_and_never_lowers_it() -> None:
    bands = TierBands()
    assert contract_tier(bands, 0.01, [_hit(Tier.blue)]) == "blue"
    assert contract_tier(bands, 0.01, [_hit(Tier.blue), _hit(Tier.orange)]) == "orange"
    assert contract_tier(bands, 0.1, [_hit(Tier.blue)]) == "yellow"
    assert contract_tier(bands, 0.6, [_hit(Tier.blue)]) == "red"


def test_bands_must_rise() -> None:
    with pytest.raises(ValueError, match="tier bands must rise"):
        TierBands(red=0.1, orange=0.2)
