"""The score lookups' read model: every entity's answer held in memory, already serialised.

A lookup (``GET /institutions/{id}/score``) used to run four ORM reads and build a pydantic
answer (about 3 ms of CPU). Scores only change when a batch run (``techcredit score``, another
process) or an override writes, so the service keeps the answer of every scored entity as
JSON bytes and a lookup is a dict read.

**Freshness.** Each :class:`~service.core.scores.sources.Source` has a cheap change marker (e.g.
``max(id)``). :meth:`ReadModel.poll` compares the markers every
``TECHCREDIT_SCORES_POLL_SECONDS`` (default 1 s) and loads only what changed, so a write by
another process shows within about one poll; a write by this service (an override) calls
:meth:`ReadModel.refresh` before it answers, so its author reads it back at once. Markers are
read before the load, and rows are assumed to become visible in id order (one batch run
writing at a time). An override's expiry is checked on each lookup, so an expired override is
never served. A lookup that comes before the first load waits for it.

**Adding a field**: write a marker and a loader returning each changed entity's value (as
:mod:`service.core.scores.standing` does for the dishonesty listing from ``cases`` and the
assessment's status of record), add the ``Source`` to ``ALL_SOURCES``, add the field to
:class:`~service.core.scores.schemas.EntityScoreOut` and fill it in :func:`render` from
``values[name]``. The poll, the incremental reload and the re-serialisation of the entities
that changed come with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from service.core.cases.calendar import CHINA, china_day
from service.core.contracts.directory import EntityInfo
from service.core.db.types import utcnow
from service.core.scores.schemas import (
    EntityScoreOut,
    HistoryPoint,
    ListingOut,
    OverrideOut,
    ReasonOut,
    RepairOut,
    StatusOut,
    WarningBrief,
)
from service.core.scores.sources import Key, OverridePoint, ScorePoint, Source, WarningPoint
from service.core.scores.standing import ALL_SOURCES, StatusPoint

log = logging.getLogger("techcredit.service")
Directory = Callable[[], Mapping[Key, EntityInfo]]
FIRST_LOAD_WAIT_S = 30.0


class NotLoaded(RuntimeError):
    """The first load has not finished in time (the database is unreachable or slow)."""


@dataclass(frozen=True)
class Entry:
    """One entity's answer: the JSON body, and what the route needs without parsing it."""

    body: bytes
    region: str | None
    score_id: int
    valid_until: float  # POSIX time the active override expires (inf: none); then re-render


def render(key: Key, values: Mapping[str, Any], info: EntityInfo | None,
           now: datetime) -> Entry | None:
    """The answer of one entity from its sources' values; None while it has no score."""
    past: Sequence[ScorePoint] | None = values.get("scores")
    if not past:
        return None
    latest = past[0]
    warnings: Mapping[Any, WarningPoint] = values.get("warnings") or {}
    warning = warnings.get(latest.as_of)
    overrides: Sequence[OverridePoint] = values.get("overrides") or ()
    override = next((o for o in overrides if o.expires_at > now), None)
    today = china_day(now)
    listing = next((x for x in values.get("listings") or () if x.publication_ends > today),
                   None)
    status: StatusPoint | None = values.get("status")
    out = EntityScoreOut(
        entity_kind=key[0], entity_id=key[1], region=latest.region, as_of=latest.as_of,
        feature_as_of=latest.feature_as_of, points=latest.points, grade=latest.grade,
        probability=latest.probability, reasons_zh=latest.reasons_zh,
        reasons_en=latest.reasons_en,
        reasons=[ReasonOut(**{k: r[k] for k in ReasonOut.model_fields})
                 for r in latest.reason_detail or ()],
        repair=RepairOut(**latest.repair) if latest.repair else None,
        model_name=latest.model_name,
        model_version=latest.model_version, alias=latest.alias,
        registry_status=info.status if info else None,
        override=OverrideOut(grade=override.grade, reason=override.reason,
                             set_by=override.set_by, created_at=override.created_at,
                             expires_at=override.expires_at) if override else None,
        effective_grade=override.grade if override else latest.grade,
        warning=WarningBrief(tier=warning.tier, reasons_zh=warning.reasons_zh,
                             reasons_en=warning.reasons_en, as_of=warning.as_of)
        if warning else None,
        listing=ListingOut(case_id=listing.case_id, state=listing.state,
                           conduct=listing.conduct, severity=listing.severity,
                           published=listing.published, listed_on=listing.listed_on,
                           publication_ends=listing.publication_ends) if listing else None,
        status_of_record=StatusOut(status=status.status, year=status.year, since=status.since,
                                   basis=status.basis) if status else None,
        history=[HistoryPoint(as_of=s.as_of, points=s.points, grade=s.grade,
                              probability=s.probability, model_version=s.model_version)
                 for s in past])
    # re-render when an override expires or a listing's publication ends (midnight in China)
    ends = [override.expires_at.timestamp()] if override else []
    if listing is not None:
        midnight = datetime.combine(listing.publication_ends, datetime.min.time(), CHINA)
        ends.append(midnight.timestamp())
    return Entry(out.model_dump_json().encode("utf-8"), latest.region, latest.id,
                 min(ends, default=float("inf")))


class ReadModel:
    """See the module docstring. :meth:`get` from the event loop; loads run in a thread."""

    def __init__(self, engine: Engine, directory: Directory,
                 sources: Sequence[Source] = ALL_SOURCES) -> None:
        self.engine = engine
        self.directory = directory
        self.sources = tuple(sources)
        self.values: dict[str, dict[Key, Any]] = {s.name: {} for s in self.sources}
        self.markers: dict[str, Hashable] = {}
        self.entries: dict[Key, Entry] = {}
        self.loaded = asyncio.Event()
        self._lock = asyncio.Lock()

    async def get(self, key: Key) -> Entry | None:
        """The current answer of ``key`` (None: no score); raises :class:`NotLoaded`."""
        if not self.loaded.is_set():
            try:
                await asyncio.wait_for(self.loaded.wait(), FIRST_LOAD_WAIT_S)
            except TimeoutError:
                raise NotLoaded("scores not loaded yet") from None
        entry = self.entries.get(key)
        if entry is not None and time.time() >= entry.valid_until:  # its override expired
            entry = self._render(key, utcnow())
            self._store({key: entry})
        return entry

    def current(self, key: Key) -> Entry | None:
        """The answer of ``key`` if it can be served as it is now: loaded, and no override
        in it expired (None: ask :meth:`get`)."""
        entry = self.entries.get(key)
        if entry is None or time.time() >= entry.valid_until:
            return None
        return entry

    async def refresh(self) -> int:
        """Load whatever changed since the last refresh; the number of entities re-rendered."""
        async with self._lock:
            changed = await asyncio.to_thread(self._changes)
            self._store(changed)
            self.loaded.set()
            return len(changed)

    async def rerender(self) -> None:
        """Serialise every answer again (the directory, e.g. registry statuses, changed)."""
        async with self._lock:
            keys = list(self.values["scores"])
            self._store(await asyncio.to_thread(self._render_all, keys))

    async def poll(self, every_seconds: float) -> None:
        """Refresh forever (cancelled at shutdown); a failed refresh is logged and retried."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("refreshing the scores read model failed")
            await asyncio.sleep(every_seconds)

    def _changes(self) -> dict[Key, Entry | None]:
        touched: set[Key] = set()
        with self.engine.connect() as conn:
            for source in self.sources:
                marker = source.marker(conn)
                if source.name in self.markers and self.markers[source.name] == marker:
                    continue
                current = self.values[source.name]
                new = source.load(conn, self.markers.get(source.name), current)
                for key, value in new.items():
                    if value is None:
                        current.pop(key, None)
                    else:
                        current[key] = value
                touched.update(new)
                self.markers[source.name] = marker
        return self._render_all(touched)

    def _render_all(self, keys: Sequence[Key] | set[Key]) -> dict[Key, Entry | None]:
        now = utcnow()
        return {key: self._render(key, now) for key in keys}

    def _render(self, key: Key, now: datetime) -> Entry | None:
        values = {name: table.get(key) for name, table in self.values.items()}
        return render(key, values, self.directory().get(key), now)

    def _store(self, entries: Mapping[Key, Entry | None]) -> None:
        for key, entry in entries.items():
            if entry is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = entry
