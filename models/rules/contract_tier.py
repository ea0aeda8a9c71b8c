"""A contract's warning tier (预警等级: 红/橙/黄/蓝) from its anomaly probability and rule hits.

The probability is calibrated, so each tier is a probability band a registration office can
read as "about this likely to be found false"; the bands are settings. A rule hit raises the
tier to the rule's own tier and never lowers what the model said; the same tiers serve the
real-time check and the batch run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from features.settings import Settings
from models.rules.evaluate import Hit
from models.rules.tier import Tier


@dataclass(frozen=True)
class TierBands:
    """Lowest probability of each tier; below ``blue`` there is no warning."""

    red: float = 0.5
    orange: float = 0.2
    yellow: float = 0.08
    blue: float = 0.03

    def __post_init__(self) -> None:
        if not 0 < self.blue <= self.yellow <= self.orange <= self.red <= 1:
            raise ValueError(f"tier bands must rise blue ≤ yellow ≤ orange ≤ red in (0, 1]: "
                             f"{self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> TierBands:
        """The bands in force (``TECHCREDIT_CONTRACT_TIER_*``): batch and real time alike."""
        return cls(settings.contract_tier_red, settings.contract_tier_orange,
                   settings.contract_tier_yellow, settings.contract_tier_blue)

    def of(self, probability: float) -> Tier | None:
        for tier in Tier:
            if probability >= getattr(self, tier):
                return tier
        return None


def contract_tier(bands: TierBands, probability: float, hits: Iterable[Hit]) -> Tier | None:
    """The more severe of the probability's tier and the hits' tiers; None: no warning."""
    found = [t for t in (bands.of(probability), *(h.tier for h in hits)) if t is not None]
    return max(found) if found else None
