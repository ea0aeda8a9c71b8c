"""Shared fixtures: a small synthetic market generated once per test worker."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports Prefect: a private home per test process, and no INFO chatter from
# the temporary server, whose shutdown message would otherwise hit pytest's closed streams.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="techcredit-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from collections.abc import Iterator

import pytest

from features.synthetic.market import Market, generate_market, write_market
from features.synthetic.spec import MarketSpec
from pipelines.gx_worker import GXWorker

pytest_plugins = ("tests.service.databases",)  # db_url, engine, sessions on both backends

SMALL = MarketSpec(first_year=2016, last_year=2020, scale=0.02, seed=3)


@pytest.fixture(scope="session")
def small_market() -> Market:
    """About 44,000 contracts over 2016–2020: big enough for every pattern, quick to build."""
    return generate_market(SMALL)


@pytest.fixture(scope="session")
def small_market_dir(small_market: Market, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    write_market(small_market, out)
    return out


@pytest.fixture(scope="session")
def gx_worker() -> Iterator[GXWorker]:
    """One Great Expectations worker process per test process, shared by the ingest tests
    (its import costs 6-10 s); a run given a worker leaves it running."""
    with GXWorker() as worker:
        yield worker
