"""The feature flow: point-in-time feature tables and labels for as-of dates (thin wiring).

Output layout under ``$TECHCREDIT_HOME/features/``::

    institution/as_of=YYYY-MM-DD.parquet   entity_id, as_of, inst_* features
    broker/as_of=YYYY-MM-DD.parquet        entity_id, as_of, brk_* features
    contract/as_of=YYYY-MM-DD.parquet      contract_id, registered_date, as_of, ctr_* features
    labels/<kind>/as_of=YYYY-MM-DD.parquet the labels of the same rows (see
    features.point_in_time.labels)

Several month-end dates make the training panel; :func:`read_panel` stacks them back with
their labels. Files are written to a temporary name and renamed, so a reader never sees half
a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import get_current_settings

from features.point_in_time.build import KINDS, build_panel
from features.point_in_time.history import History, prepare
from features.point_in_time.labels import panel_labels
from features.settings import Settings, get_settings
from features.standard.tables import LOAD_ORDER

if TYPE_CHECKING:
    from pipelines.store.curated import Snapshot

TRUTH = Path("_truth") / "contracts.parquet"
ENTITY_TRUTH = Path("_truth") / "entities.parquet"


def load_tables(settings: Settings, source: Path | None = None,
                store: Snapshot | None = None) -> dict[str, pd.DataFrame]:
    """The five standard tables: from the curated store (with the earlier versions of its
    records, ``<table>_history``, so features read attributes as they held) as its current
    manifest or ``store`` left it, or from a folder of Parquet exports."""
    if source is not None:
        return {name: pd.read_parquet(source / f"{name}.parquet") for name in LOAD_ORDER}
    from pipelines.store.curated import snapshot

    snap = store or snapshot(settings)  # one manifest: every table from the same state
    tables = {name: snap.read(name) for name in LOAD_ORDER}
    # attributes as they held on each date: every version that was current, with its export
    for name in ("institutions", "brokers"):
        tables[name] = snap.read_with_lineage(name)
    for name in ("institutions", "brokers", "contracts"):
        tables[f"{name}_history"] = snap.history(name)
    return tables


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def feature_path(settings: Settings, kind: str, as_of: pd.Timestamp, labels: bool = False) -> Path:
    root = settings.features_dir / "labels" if labels else settings.features_dir
    return root / kind / f"as_of={as_of:%Y-%m-%d}.parquet"


@task(name="prepare-history", cache_policy=NO_CACHE)  # inputs are millions of rows
def prepare_task(tables: dict[str, pd.DataFrame]) -> History:
    return prepare(tables)


class NoPrefectServer(RuntimeError):
    """A Dask scheduler is set but the flow runs on Prefect's temporary server."""


def month_end_panel(h: History, as_ofs: list[pd.Timestamp], settings: Settings
                    ) -> dict[str, pd.DataFrame]:
    """The panel in-process, or with its months in parallel on the Dask scheduler the settings
    name (the same tables either way).

    Dask workers record their task runs on the flow's Prefect server, which they learn from
    the flow. Prefect's temporary server has no address to pass on, and each worker would
    start a temporary server of its own instead: refused, before any work is sent.
    """
    address = settings.prefect.dask_address
    if address is None:
        return build_panel(h, as_ofs)
    if get_current_settings().api.url is None:
        raise NoPrefectServer(
            f"the panel on Dask ({address}) needs a Prefect server its workers can record "
            "their task runs on: set PREFECT_API_URL (`techcredit up` starts one)")
    from pipelines.panel_on_dask import panel_on_dask

    return panel_on_dask(h, as_ofs, address)


@task(name="build-and-write", cache_policy=NO_CACHE)
def build_task(h: History, as_ofs: list[pd.Timestamp], settings: Settings,
               truth: pd.DataFrame | None) -> list[Path]:
    panel = month_end_panel(h, as_ofs, settings)
    labels = panel_labels(h, panel, truth)
    written = []
    for kind in KINDS:
        for frame, is_label in ((panel[kind], False), (labels[kind], True)):
            for as_of, part in frame.groupby("as_of", sort=True):
                path = feature_path(settings, kind, pd.Timestamp(as_of), labels=is_label)
                written.append(_write(part.reset_index(drop=True), path))
    return written


@flow(name="build-features")
def build_features_flow(as_ofs: Sequence[str | pd.Timestamp], source: Path | None = None,
                        settings: Settings | None = None) -> list[Path]:
    """Build and write feature tables and labels for each as-of date (技术市场特征构建)."""
    s = settings or get_settings()
    tables = load_tables(s, source)
    truth_file = (source or s.market_dir) / TRUTH
    truth = pd.read_parquet(truth_file) if truth_file.exists() else None
    h = prepare_task(tables)
    dates = sorted({pd.Timestamp(a).normalize() for a in as_ofs})
    return build_task(h, dates, s, truth)


def read_panel(kind: str, settings: Settings | None = None, labels: bool = True) -> pd.DataFrame:
    """Every written as-of table of one kind, stacked, with its labels joined when asked."""
    s = settings or get_settings()
    files = sorted((s.features_dir / kind).glob("as_of=*.parquet"))
    if not files:
        raise FileNotFoundError(f"no feature tables under {s.features_dir / kind}; run "
                                "`techcredit features --as-of YYYY-MM-DD` first")
    panel = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if not labels:
        return panel
    lab = pd.concat([pd.read_parquet(f) for f in sorted(
        (s.features_dir / "labels" / kind).glob("as_of=*.parquet"))], ignore_index=True)
    key = ["contract_id", "as_of"] if kind == "contract" else ["entity_id", "as_of"]
    return panel.merge(lab, on=key, how="left", validate="one_to_one")
