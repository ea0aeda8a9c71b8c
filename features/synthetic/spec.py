"""What a synthetic market is asked for (years, scale, seed) and the calendar helper every
part of the generator shares; its own module so that the market and the records derived
from it can both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MarketSpec:
    first_year: int = 2011
    last_year: int = 2020
    scale: float = 0.05
    seed: int = 7

    @property
    def end(self) -> np.datetime64:
        """The export date: nothing after it is known to the register."""
        return np.datetime64(f"{self.last_year}-12-31", "D")


def year_of(days: pd.Series) -> np.ndarray:
    """Calendar year of each registration day."""
    return days.to_numpy().astype("datetime64[Y]").astype(int) + 1970
