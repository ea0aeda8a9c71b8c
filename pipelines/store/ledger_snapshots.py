"""The contract ledger's snapshots kept with the curated store's versions.

Each published manifest ``.manifests/<seq>-<run>.json`` may have its ledger state beside it
in ``.ledger/<seq>-<run>.snapshot`` (what a check needs) and ``.mark`` (what advancing it
to the next version needs); :func:`~pipelines.store.curated.collect_garbage` drops them with
their manifest. The ingest writes them right after it publishes
(:func:`save_ledger_snapshot`); the service and ``techcredit score --contract`` load them
through :class:`StorePin`, which pins one manifest so tables and snapshot always come from
the same version.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from features.settings import Settings
from pipelines.store.curated import LEDGER, Snapshot, manifests, snapshot
from service.core.contracts import snapshot as files
from service.core.contracts.advance import Ledger
from service.core.contracts.snapshot import LedgerSnapshot, RegisterMark
from service.core.contracts.stored import Obtained, obtain


class StorePin:
    """The store's current version, pinned when made (implements
    :class:`service.core.contracts.stored.Pinned`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: Snapshot = snapshot(settings)
        m = self.store.manifest
        self.version = f"store {m.sequence} ({m.run_id or 'empty'})"
        self._tables: dict[str, pd.DataFrame] | None = None

    def _path(self, stem: str, kind: str) -> Path:
        return self.settings.curated_dir / LEDGER / f"{stem}.{kind}"

    def tables(self) -> Mapping[str, pd.DataFrame]:
        if self._tables is None:
            from pipelines.build_features import load_tables  # Prefect: only when needed

            self._tables = load_tables(self.settings, store=self.store)
        return self._tables

    def snapshot(self) -> LedgerSnapshot | str:
        got = files.load(self._path(Path(self.store.manifest.file_name).stem, "snapshot"))
        if isinstance(got, str):
            return f"{got} of {self.version}" if got == "no snapshot" else got
        assert isinstance(got, LedgerSnapshot)
        return got

    def earlier(self) -> Ledger | str:
        seq = self.store.manifest.sequence
        for m in manifests(self.settings):  # newest first
            stem = Path(m.file_name).stem
            if m.sequence >= seq or not self._path(stem, "snapshot").is_file():
                continue
            snap = files.load(self._path(stem, "snapshot"))
            mark = files.load(self._path(stem, "mark"))
            for why in (snap, mark):
                if isinstance(why, str):
                    return f"the snapshot of store {m.sequence} is unusable: {why}"
            assert isinstance(snap, LedgerSnapshot) and isinstance(mark, RegisterMark)
            return Ledger(snap, mark)
        return "no earlier snapshot kept"

    def save(self, ledger: Ledger) -> None:
        stem = Path(self.store.manifest.file_name).stem
        files.save(self._path(stem, "mark"), ledger.mark)  # the snapshot last: it names both
        files.save(self._path(stem, "snapshot"), ledger.snapshot)


def save_ledger_snapshot(settings: Settings) -> Obtained | None:
    """The store's current version's ledger snapshot, advanced from the previous one or
    built, and saved (None before the first contracts are in, or when switched off:
    ``store.ledger_snapshot``)."""
    pin = StorePin(settings)
    if not settings.store.ledger_snapshot or pin.store.version("contracts") is None:
        return None
    return obtain(pin, 0, settings.store.ledger_days)
