"""A contract's warning tier (预警等级: 红/橙/黄/蓝) from its anomaly probability and rule hits.

The probability is calibrated, so each tier is a probability band a registration office can
read as "about this likely to be found false"; the bands are settings. A rule hit raises the
tier to what its severity vouches for (high → orange, medium → yellow, low → blue) and never
lowers what the model said; the same tiers serve the real-time check and the batch run.
"""

from __future__ import annotations

from collections.abc import Iterable

from features.settings import Settings, TierSettings
from models.rules.evaluate import Hit

TIERS = ("red", "orange", "yellow", "blue")  # most to least severe
SEVERITY_TIER = {"high": "orange", "medium": "yellow", "low": "blue"}
TIER_NAMES = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}


class TierBands(TierSettings):
    """The tier settings (lowest probability of each tier; below ``blue`` there is no warning)
    reading a probability's tier."""

    @classmethod
    def from_settings(cls, settings: Settings) -> TierBands:
        """The bands in force (``TECHCREDIT_CONTRACT_TIER_*``): batch and real time alike."""
        return cls(**settings.tiers.model_dump())

    def of(self, probability: float) -> str | None:
        for tier in TIERS:
            if probability >= getattr(self, tier):
                return tier
        return None


def contract_tier(bands: TierBands, probability: float, hits: Iterable[Hit]) -> str | None:
    """The more severe of the probability's tier and the hits' tiers; None: no warning."""
    found = [t for t in (bands.of(probability), *(SEVERITY_TIER[h.severity] for h in hits)) if t]
    return min(found, key=TIERS.index) if found else None
