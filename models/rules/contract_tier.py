"""A contract's warning tier (预警等级: 红/橙/黄/蓝) from its anomaly probability and rule hits.

The probability is calibrated, so each tier is a probability band a registration office can
read as "about this likely to be found false"; the bands are settings. A rule hit raises the
tier to the rule's own tier and never lowers what the model said; the same tiers serve the
real-time check and the batch run.
"""

from __future__ import annotations

from collections.abc import Iterable

from features.settings import Settings, TierSettings
from models.rules.evaluate import Hit
from models.rules.tier import Tier


class TierBands(TierSettings):
    """The tier settings (lowest probability of each tier; below ``blue`` there is no warning)
    reading a probability's tier."""

    @classmethod
    def from_settings(cls, settings: Settings) -> TierBands:
        """The bands in force (``TECHCREDIT_CONTRACT_TIER_*``): batch and real time alike."""
        return cls(**settings.tiers.model_dump())

    def of(self, probability: float) -> Tier | None:
        for tier in Tier:
            if probability >= getattr(self, tier):
                return tier
        return None


def contract_tier(bands: TierBands, probability: float, hits: Iterable[Hit]) -> Tier | None:
    """The more severe of the probability's tier and the hits' tiers; None: no warning."""
    found = [t for t in (bands.of(probability), *(h.tier for h in hits)) if t is not None]
    return max(found) if found else None
