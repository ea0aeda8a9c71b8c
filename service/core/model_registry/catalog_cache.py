"""The reviewers' model catalog, reused for a few seconds.

Reading it costs about 50 ms of MLflow queries per model in the serving process: under 20
reviewers the models page would slow every other page (measured: ``bench_console``), so it is
reused for ``polling.models_page_seconds``. A decision taken through the service drops it, and
a read that began before the drop is never kept, so the decider sees their decision at once; a
change made elsewhere (``techcredit promote``, training) shows within those seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from models.catalog import ModelCatalog


@dataclass
class CatalogCache:
    value: list[ModelCatalog] | None = None
    read_at: float = float("-inf")  # when the kept value's read began (monotonic seconds)
    dropped_at: float = float("-inf")

    def fresh(self, max_age: float) -> list[ModelCatalog] | None:
        return self.value if time.monotonic() - self.read_at < max_age else None

    def keep(self, value: list[ModelCatalog], read_at: float) -> None:
        """Keep a read begun at ``read_at``, unless a newer read or a drop came after it."""
        if read_at >= self.read_at and read_at > self.dropped_at:
            self.value, self.read_at = value, read_at

    def drop(self) -> None:
        self.value, self.read_at, self.dropped_at = None, float("-inf"), time.monotonic()
