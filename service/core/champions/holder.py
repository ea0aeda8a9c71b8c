"""The champion models the service answers with, swapped whole when the alias moves.

A request reads :attr:`ModelHolder.current` once and uses that :class:`Loaded` to the end, so
it is answered by one consistent set of models even if a swap happens meanwhile; a swap is
one reference assignment, made only after the new set loaded completely (in a worker thread,
so serving goes on while it loads). When the registry cannot be asked, the last good set keeps
serving and :attr:`ModelHolder.problem` says why (``/readyz`` reports it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.registry import ReviewRecord
from models.risk_model import RiskModel
from models.scoring import ModelRef
from service.core.db.types import utcnow

log = logging.getLogger("techcredit.service")


@dataclass(frozen=True)
class Loaded:
    """One consistent set of serving models."""

    anomaly: RiskModel
    anomaly_ref: ModelRef
    credit_ref: ModelRef | None  # the batch scores' model; None before a credit champion
    reviews: tuple[ReviewRecord, ...]  # decisions on the loaded versions, oldest first
    loaded_at: datetime = field(default_factory=utcnow)

    @property
    def versions(self) -> tuple[str | None, str | None]:
        return self.anomaly_ref.version, self.credit_ref.version if self.credit_ref else None


@dataclass(frozen=True)
class ModelSource:
    """How to ask the registry: which versions the aliases point at, and how to load them."""

    versions: Callable[[], tuple[str | None, str | None]]  # (anomaly, credit) behind the alias
    load: Callable[[tuple[str | None, str | None]], Loaded]


class ModelHolder:
    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self.current: Loaded | None = None
        self.problem: str | None = "models not loaded yet"
        self.checked_at: datetime | None = None
        self.swaps = 0

    def refresh(self) -> bool:
        """Load the aliases' versions if they moved; True when a new set was swapped in.
        Blocking (MLflow IO): the service runs it in a worker thread."""
        self.checked_at = utcnow()  # asked, whatever the answer: /readyz's `starting` ends
        try:
            wanted = self.source.versions()
            if wanted[0] is None:
                self.problem = "no champion anomaly model: a reviewer promotes one"
                return False
            if self.current is not None and self.current.versions == wanted:
                self.problem = None
                return False
            loaded = self.source.load(wanted)
        except Exception as e:  # any failure keeps the last good set, and says so
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            kept = ("serving the last good models" if self.current is not None
                    else "no models loaded yet")
            self.problem = f"registry unreachable, {kept}: {first}"
            log.warning("model refresh failed: %s", first)
            return False
        self.current = loaded  # the swap: one assignment
        self.swaps += 1
        self.problem = None
        log.info("serving %s", loaded.anomaly_ref.label())
        return True

    async def poll(self, every_seconds: float) -> None:
        """Refresh forever in a worker thread (cancelled at shutdown)."""
        while True:
            await asyncio.sleep(every_seconds)
            await asyncio.to_thread(self.refresh)
