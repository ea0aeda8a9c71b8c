"""The month-end panel with its months on a local Dask cluster (two worker processes) is the
panel built in-process, value for value, and the feature flow writes it; the cluster is
reached through the settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster
from prefect.settings import PREFECT_API_URL, temporary_settings

from features.point_in_time.build import KINDS, month_ends
from features.point_in_time.history import History, prepare
from features.settings import PrefectSettings, Settings
from features.synthetic.market import Market
from pipelines.build_features import (
    NoPrefectServer,
    build_features_flow,
    month_end_panel,
    read_panel,
)

DATES = month_ends("2019-12", "2020-01")  # across a year end


@pytest.fixture(scope="module")
def history(small_market: Market) -> History:
    return prepare(small_market.tables)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def in_process(history: History) -> dict[str, pd.DataFrame]:
    return month_end_panel(history, DATES, Settings(prefect=PrefectSettings()))


def on(cluster: LocalCluster) -> PrefectSettings:
    return PrefectSettings(dask_address=cluster.scheduler_address)


@pytest.mark.e2e
def test_months_on_dask_give_the_in_process_panel(
    history: History, cluster: LocalCluster, in_process: dict[str, pd.DataFrame]
) -> None:
    on_dask = month_end_panel(history, DATES, Settings(prefect=on(cluster)))
    for kind in KINDS:
        pd.testing.assert_frame_equal(on_dask[kind], in_process[kind], check_exact=True)
    assert set(on_dask["contract"]["as_of"]) == set(DATES)


@pytest.mark.e2e
def test_the_feature_flow_writes_the_panel_built_on_dask(
    small_market_dir: Path, cluster: LocalCluster, in_process: dict[str, pd.DataFrame],
    tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, prefect=on(cluster))
    build_features_flow(DATES, small_market_dir, settings)
    for kind in KINDS:
        written = read_panel(kind, settings, labels=False)
        pd.testing.assert_frame_equal(written, in_process[kind], check_dtype=False)


def test_without_a_prefect_server_the_workers_could_share_it_refuses(history: History) -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(
        NoPrefectServer, match="PREFECT_API_URL"
    ):
        month_end_panel(history, DATES,
                        Settings(prefect=PrefectSettings(dask_address="tcp://127.0.0.1:1")))
