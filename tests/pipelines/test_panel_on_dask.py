"""The month-end panel with its months on a local Dask cluster (two worker processes) is the
panel built in-process, value for value; the cluster is reached through the settings, as the
feature flow reaches it."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from distributed import LocalCluster
from prefect.settings import PREFECT_API_URL, temporary_settings

from features.point_in_time.build import KINDS, month_ends
from features.point_in_time.history import History, prepare
from features.settings import PrefectSettings, Settings
from features.synthetic.market import Market
from pipelines.build_features import month_end_panel
from pipelines.panel_on_dask import NoPrefectServer, panel_on_dask

DATES = month_ends("2019-11", "2020-01")  # across a year end


@pytest.fixture(scope="module")
def history(small_market: Market) -> History:
    return prepare(small_market.tables)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


@pytest.mark.e2e
def test_months_on_dask_give_the_in_process_panel(history: History,
                                                  cluster: LocalCluster) -> None:
    in_process = month_end_panel(history, DATES, Settings(prefect=PrefectSettings()))
    on_dask = month_end_panel(
        history, DATES, Settings(prefect=PrefectSettings(dask_address=cluster.scheduler_address)))
    for kind in KINDS:
        pd.testing.assert_frame_equal(on_dask[kind], in_process[kind], check_exact=True)
    assert set(on_dask["contract"]["as_of"]) == set(DATES)


def test_without_a_prefect_server_the_workers_could_share_it_refuses(history: History) -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(
        NoPrefectServer, match="PREFECT_API_URL"
    ):
        panel_on_dask(history, DATES, "tcp://127.0.0.1:1")
