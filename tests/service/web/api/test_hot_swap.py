"""The champion moves while requests keep coming, and the registry goes away.

The registry is a real MLflow tracking server over HTTP: MLflow's own server application
(``mlflow.server``'s Flask app, what ``mlflow server`` runs) served from a thread of this
process on a private copy of the trained registry's database. A subprocess ``mlflow server``
took 40-75 s to start on a busy two-core machine, most of it importing MLflow, which this
process has already done. Version 2 of the anomaly model is version 1's logged model
registered again (on the copy, before the server starts); the test moves the champion alias
through the server's API. "Down" is the server shut and its socket closed: connections are
refused.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from sqlalchemy import Engine, select
from werkzeug.serving import BaseWSGIServer, make_server

from features.settings import DatabaseSettings, MLflowSettings, PollingSettings, Settings
from models.registry import ANOMALY_MODEL, CHAMPION, Store
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.db.tables import AuditEntry, ContractCheck
from service.core.db.users import add_user
from service.web.app import create_app
from tests.service.web.api.conftest import contract_body, wait_ready
from tests.trained import Trained

pytestmark = pytest.mark.e2e

WAIT_S = 60.0  # for the poller to notice a change (it polls every POLL_S)
POLL_S = 0.2


@pytest.fixture(autouse=True)
def fail_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused connection is answered at once, not retried for minutes."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


class RegistryServer:
    """MLflow's tracking server on ``backend_uri``, on a free local port, until ``stop``."""

    def __init__(self, backend_uri: str, artifact_root: str) -> None:
        from mlflow.server import app as flask_app
        from mlflow.server import handlers

        # The server's stores are module globals that also set the process's tracking URI
        # when first made: make them now, then give the process its URI back.
        tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        handlers._tracking_store = None
        handlers._model_registry_store = None
        handlers._get_tracking_store(backend_uri, artifact_root)
        handlers._get_model_registry_store(backend_uri)
        mlflow.set_tracking_uri(tracking)
        mlflow.set_registry_uri(registry)
        self.app = flask_app
        self.server: BaseWSGIServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, name="mlflow-server",
                         daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def close(self) -> None:
        from mlflow.server import handlers

        self.stop()
        handlers._tracking_store = None
        handlers._model_registry_store = None


@dataclass
class Served:
    client: TestClient
    registry: RegistryServer
    token: str  # an admin's: may check contracts and read the models
    trained: Trained
    engine: Engine

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def served(trained: Trained, db_url: str, tmp_path: Path) -> Iterator[Served]:
    """The app on ``db_url``, its champions read from a private registry over HTTP, where
    version 2 of the anomaly model is the version-1 model registered again (not yet
    champion). Artifacts stay in the shared build and are only read."""
    shutil.copy(trained.settings.home / "mlflow.db", tmp_path / "mlflow.db")
    backend = f"sqlite:///{tmp_path / 'mlflow.db'}"
    local = Store(backend, trained.settings.mlflow_artifact_root).client()  # sets MLflow's URI
    v1 = local.get_model_version(ANOMALY_MODEL, "1")
    v2 = local.create_model_version(ANOMALY_MODEL, v1.source, v1.run_id,
                                    tags={"run_id": v1.run_id, "test": "hot swap"})
    assert str(v2.version) == "2"
    registry = RegistryServer(backend, trained.settings.mlflow_artifact_root)
    engine = make_engine(db_url)
    try:
        settings = Settings(home=trained.settings.home, database=DatabaseSettings(url=db_url),
                            mlflow=MLflowSettings(uri=registry.url),
                            polling=PollingSettings(model_seconds=POLL_S))
        upgrade(engine)
        with session_factory(engine).begin() as session:
            _, token = add_user(session, "swap-admin", "admin")
        with TestClient(create_app(settings, trained.tables)) as app_client:
            ready = wait_ready(app_client)
            assert ready["registry"] == "reachable"
            assert ready["models"] == ("techcredit-anomaly v1 @champion; "
                                       "techcredit-credit v1 @champion")
            yield Served(app_client, registry, token, trained, engine)
    finally:
        registry.close()
        engine.dispose()


@dataclass
class Log:
    """What one client thread sent and got, in order."""

    answers: list[tuple[str, int, str | None, Any]] = field(default_factory=list)
    error: BaseException | None = None


def _client_thread(s: Served, n: int, stop: threading.Event, log: Log) -> None:
    i = 0
    try:
        while not stop.is_set():
            i += 1
            contract_id = f"CH{n}{i:06d}"
            check = s.client.post("/api/v1/contracts/check", headers=s.headers(),
                                  json=contract_body(s.trained, contract_id, row=-1 - i % 50))
            log.answers.append(("check", check.status_code, contract_id, check.json()))
            models = s.client.get("/api/v1/models", headers=s.headers())
            log.answers.append(("models", models.status_code, None, models.json()))
    except BaseException as e:  # reported by the test, not lost in the thread
        log.error = e


def _version(kind: str, answer: dict[str, Any]) -> str:
    if kind == "check":
        return answer["model_version"]
    [anomaly] = [m for m in answer["models"] if m["name"] == ANOMALY_MODEL]
    return anomaly["version"]


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_champion_is_swapped_under_load_without_a_failed_or_mixed_request(
        trained: Trained, db_url: str, tmp_path: Path) -> None:
    with served(trained, db_url, tmp_path) as s:
        stop = threading.Event()
        logs = [Log() for _ in range(4)]
        threads = [threading.Thread(target=_client_thread, args=(s, n, stop, log))
                   for n, log in enumerate(logs)]
        for t in threads:
            t.start()

        def answered(version: str, at_least: int) -> bool:
            return sum(1 for log in logs for kind, code, _, a in list(log.answers)
                       if code == 200 and _version(kind, a) == version) >= at_least

        try:
            _wait_for(lambda: answered("1", 20), "answers from version 1")
            MlflowClient(s.registry.url, s.registry.url).set_registered_model_alias(
                ANOMALY_MODEL, CHAMPION, "2")
            _wait_for(lambda: answered("2", 20), "answers from version 2")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)

        assert [log.error for log in logs] == [None] * len(logs)
        answers = [a for log in logs for a in log.answers]
        assert {code for _, code, _, _ in answers} == {200}  # zero failed requests
        for log in logs:  # each thread's answers: version 1, then only version 2
            versions = [_version(kind, a) for kind, _, _, a in log.answers]
            assert set(versions) <= {"1", "2"}
            assert versions == sorted(versions), versions
        for kind, _, _, a in answers:  # one consistent set per answer
            if kind == "models":
                anomaly, credit = a["models"]
                assert {r["version"] for r in anomaly["reviews"]} <= {anomaly["version"]}
                assert (anomaly["version"] == "1") == bool(anomaly["reviews"])
                assert (credit["name"], credit["version"]) == ("techcredit-credit", "1")
        checks = {cid: a for kind, _, cid, a in answers if kind == "check"}
        with session_factory(s.engine)() as session:
            rows = dict(session.execute(select(ContractCheck.contract_id,
                                               ContractCheck.model_version)).all())
            audited = {e.entity_id: e.detail["model_version"] for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "check_contract"))}
        assert rows == audited == {cid: a["model_version"] for cid, a in checks.items()}

        after = s.client.post("/api/v1/contracts/check", headers=s.headers(),
                              json=contract_body(s.trained, "CH9000001"))
        assert after.json()["model_version"] == "2"
        ready = s.client.get("/readyz").json()
        assert ready["models"] == "techcredit-anomaly v2 @champion; techcredit-credit v1 @champion"
        assert s.client.app.state.ctx.holder.swaps == 2  # type: ignore[attr-defined]


def test_with_the_registry_down_the_last_good_models_serve_and_readyz_says_so(
        trained: Trained, db_url: str, tmp_path: Path) -> None:
    with served(trained, db_url, tmp_path) as s:
        url = s.registry.url
        s.registry.stop()

        def registry_state() -> str:
            return s.client.get("/readyz").json()["registry"]

        _wait_for(lambda: registry_state() != "reachable", "the registry to be missed")
        ready = s.client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["ready"] is True
        down = f"registry unreachable, serving the last good models: model registry {url}"
        assert body["registry"].startswith(down)
        assert body["models"] == "techcredit-anomaly v1 @champion; techcredit-credit v1 @champion"

        check = s.client.post("/api/v1/contracts/check", headers=s.headers(),
                              json=contract_body(s.trained, "CD0000001"))
        assert check.status_code == 200, check.text
        assert check.json()["model_version"] == "1"
        models = s.client.get("/api/v1/models", headers=s.headers()).json()
        assert [m["version"] for m in models["models"]] == ["1", "1"]
        assert models["registry_problem"].startswith(down)

        s.registry.start()  # back on the same port: noticed at the next poll
        _wait_for(lambda: registry_state() == "reachable", "the registry to be back")
        assert s.client.get("/api/v1/models", headers=s.headers()).json()[
            "registry_problem"] is None
