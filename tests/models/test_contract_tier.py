"""Contract tiers: probability bands, raised (never lowered) by rule hits."""

from __future__ import annotations

import pytest

from models.contract_tier import TierBands, contract_tier
from models.rules.evaluate import Hit


def _hit(severity: str) -> Hit:
    return Hit("r", severity, "中", "en", "C1")  # type: ignore[arg-type]


@pytest.mark.parametrize(("p", "tier"), [(0.6, "red"), (0.5, "red"), (0.3, "orange"),
                                         (0.1, "yellow"), (0.03, "blue"), (0.01, None)])
def test_probability_bands(p: float, tier: str | None) -> None:
    assert contract_tier(TierBands(), p, []) == tier


def test_a_hit_raises_the_tier_and_never_lowers_it() -> None:
    bands = TierBands()
    assert contract_tier(bands, 0.01, [_hit("low")]) == "blue"
    assert contract_tier(bands, 0.01, [_hit("low"), _hit("high")]) == "orange"
    assert contract_tier(bands, 0.6, [_hit("low")]) == "red"


def test_bands_must_rise() -> None:
    with pytest.raises(ValueError, match="tier bands must rise"):
        TierBands(red=0.1, orange=0.2)
