"""The month-end panel with its months built in parallel on a Dask cluster (Prefect's
``DaskTaskRunner``): one Prefect task a month, each a thin wrapper over the pure
:func:`features.point_in_time.build.build_month`.

The feature flow comes here when ``TECHCREDIT_DASK_ADDRESS`` names a scheduler (and the flow
runs against a Prefect server, see :func:`pipelines.build_features.month_end_panel`); the
workers need this project's environment, for they import the task. Imported only then: Dask
adds more than a second to the start of every command that imports it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from features.point_in_time.build import Month, build_month, panel_months, stack
from features.point_in_time.history import History


@task(name="build-month", cache_policy=NO_CACHE)  # the input is the whole prepared history
def month_task(h: History, month: Month) -> dict[str, pd.DataFrame]:
    return build_month(h, month)


def panel_on_dask(h: History, as_ofs: Iterable[str | pd.Timestamp], address: str
                  ) -> dict[str, pd.DataFrame]:
    """The panel :func:`~features.point_in_time.build.build_panel` gives, its months built in
    parallel on the Dask scheduler at ``address``.

    The history is copied to every worker once (a broadcast scatter) and each task gets a
    reference to it; passed as a plain argument it would be pickled into every task. The tasks
    go through a runner of their own rather than a subflow, because a flow's parameters (here
    the history) travel in the context of each of its tasks.
    """
    with DaskTaskRunner(address=address) as runner:
        shared = runner.client.scatter(h, broadcast=True, hash=False)
        futures = [runner.submit(month_task, {"h": shared, "month": m})
                   for m in panel_months(as_ofs)]
        return stack(f.result() for f in futures)
