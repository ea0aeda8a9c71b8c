"""Shared fixtures: a small synthetic market generated once per test worker."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import prefect_server  # the standard library only: imports no Prefect

# Before anything imports Prefect: a private home per test process, and no INFO chatter from
# the temporary server, whose shutdown message would otherwise hit pytest's closed streams.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="techcredit-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

# One Prefect server for the run instead of a temporary one per process (tests/prefect_server.py).
prefect_server.start()

from features.synthetic.market import Market, generate_market, write_market  # noqa: E402
from features.synthetic.spec import MarketSpec  # noqa: E402
from pipelines.ingest.gx_worker import GXWorker  # noqa: E402

pytest_plugins = ("tests.service.databases",)  # db_url, engine, sessions on both backends

SMALL = MarketSpec(first_year=2016, last_year=2020, scale=0.02, seed=3)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run is over: stop the shared Prefect server if this process started it."""
    prefect_server.stop()


@pytest.fixture(scope="session", autouse=True)
def shared_prefect_server() -> Iterator[None]:
    """Every test process waits for the shared Prefect server before its first test (or
    falls back to a temporary server of its own if it never answers)."""
    with prefect_server.connected():
        yield


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
