"""A long-lived service follows the registry: when the curated store publishes a new version
the real-time state, directory and market are rebuilt and swapped in while the old ones keep
answering; a rebuild that fails keeps the old state serving and ``/readyz`` says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from features.settings import DatabaseSettings, PollingSettings, Settings
from service.core.context import ServiceContext
from service.core.db.engine import make_engine
from service.core.db.migrate import upgrade
from service.web.app import create_app
from tests.service.web.api.conftest import wait_ready
from tests.trained import Trained

pytestmark = pytest.mark.e2e
RENAMED = "改名后的技术转移机构"


class Registry:
    """The tables the service reads and their version, as the curated store would give."""

    def __init__(self, trained: Trained) -> None:
        self.base = trained.tables()
        self.version = 1
        self.rename: str | None = None  # an institution renamed from version 2 on
        self.broken = False

    def tables(self) -> dict[str, pd.DataFrame]:
        if self.broken:
            raise OSError("store version 3: contracts.parquet is unreadable")
        out = dict(self.base)
        if self.rename is not None:
            inst = out["institutions"].copy()
            inst["name"] = inst["name"].astype("object")
            inst.loc[inst["institution_id"] == self.rename, "name"] = RENAMED
            out["institutions"] = inst
        return out

    def fingerprint(self) -> str:
        return f"store {self.version}"


def _app(trained: Trained, tmp_path: Path, registry: Registry) -> TestClient:
    db_url = f"sqlite:///{tmp_path / 'techcredit.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    s = Settings(home=trained.settings.home, database=DatabaseSettings(url=db_url),
                 polling=PollingSettings(model_seconds=3600.0, state_seconds=0.2))
    return TestClient(create_app(s, registry.tables, fingerprint=registry.fingerprint))


@pytest.fixture
def served(trained: Trained, tmp_path: Path) -> Iterator[tuple[TestClient, Registry]]:
    registry = Registry(trained)
    with _app(trained, tmp_path, registry) as client:
        wait_ready(client)
        yield client, registry


def _ctx(client: TestClient) -> ServiceContext:
    return client.app.state.ctx  # type: ignore[attr-defined]


def _until(check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the service did not follow the register"
        time.sleep(0.1)


def test_a_new_store_version_is_built_and_swapped_in(
        served: tuple[TestClient, Registry]) -> None:
    client, registry = served
    ctx = _ctx(client)
    first_checker, first_built = ctx.checker, client.get("/readyz").json()["state_built_at"]
    institution = next(k for k in ctx.directory if k[0] == "institution")
    assert ctx.directory[institution].name != RENAMED
    time.sleep(0.5)  # polls with an unchanged version rebuild nothing
    assert ctx.checker is first_checker

    registry.rename, registry.version = institution[1], 2
    _until(lambda: ctx.directory[institution].name == RENAMED)
    assert ctx.checker is not first_checker and ctx.checker is not None
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert (ready.json()["state"], ready.json()["state_built_at"] > first_built) == ("ok", True)


def test_a_failed_rebuild_keeps_the_old_state_serving_and_says_so(
        served: tuple[TestClient, Registry]) -> None:
    client, registry = served
    ctx = _ctx(client)
    serving = ctx.checker
    registry.broken, registry.version = True, 3
    _until(lambda: ctx.state_stale is not None)
    assert ctx.checker is serving
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["state"].startswith("ok, but rebuild failed, serving the state built")
    assert "contracts.parquet is unreadable" in ready.json()["state"]

    registry.broken = False  # mended: the next poll builds it
    _until(lambda: ctx.state_stale is None)
    assert ctx.checker is not serving
    assert client.get("/readyz").json()["state"] == "ok"


def test_a_failed_first_build_is_tried_again_without_a_new_version(
        trained: Trained, tmp_path: Path) -> None:
    registry = Registry(trained)
    registry.broken = True  # e.g. the store's disk not mounted yet when the service starts
    with _app(trained, tmp_path, registry) as client:
        ctx = _ctx(client)
        _until(lambda: (ctx.state_problem or "").startswith("contract ledger failed"))
        _until(lambda: client.get("/readyz").json()["starting"] is False)  # models loaded too
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["ready"]) == (503, False)
        assert ready.json()["state"].endswith("store version 3: contracts.parquet is unreadable")
        registry.broken = False  # the same version, readable now
        _until(lambda: ctx.checker is not None)
        assert wait_ready(client)["state"] == "ok"
