"""``techcredit serve`` as an operator runs it: refused in one line on an unmigrated database;
on a migrated one, a real server process that becomes ready and answers a contract check."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.db.users import add_user
from tests.trained import Trained, build, shared_folder

pytestmark = pytest.mark.e2e
TECHCREDIT = Path(sys.executable).with_name("techcredit")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


def test_an_unmigrated_database_is_refused_in_one_line(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "is at revision none (empty)" in result.output
    assert "techcredit db upgrade" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_served_process_gets_ready_and_checks_a_contract(trained: Trained,
                                                          tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'service.core.db'}"
    engine = make_engine(db)
    upgrade(engine)
    contract = pd.read_parquet(trained.source / "contracts.parquet").iloc[-1]
    with session_factory(engine).begin() as session:  # the office of the contract it sends
        _, token = add_user(session, "登记处", "office", [], None, None, [contract["office_id"]])
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "TECHCREDIT_HOME": str(trained.settings.home),
           "TECHCREDIT_DATABASE_URL": db}
    server = subprocess.Popen([str(TECHCREDIT), "serve", "--port", str(port), "--source",
                               str(trained.source)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready: tuple[int, dict] = (0, {})
        while time.monotonic() < deadline and ready[0] != 200:
            time.sleep(0.5)
            try:
                ready = _get(f"{base}/readyz")
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert ready[0] == 200, ready
        assert ready[1]["models"].startswith("techcredit-anomaly v1 @champion")
        body = {k: (None if pd.isna(v) else str(v)[:10] if hasattr(v, "year") else v)
                for k, v in contract.items() if not str(k).startswith("status")}
        body["contract_id"] = "C20990000001"
        request = urllib.request.Request(
            f"{base}/api/v1/contracts/check", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            answer = json.loads(r.read())
        assert answer["contract_id"] == "C20990000001" and answer["registered"] is True
        assert 0 < answer["probability"] < 1 and answer["model_version"] == "1"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_data_version_changes_with_what_the_state_is_built_from(tmp_path: Path) -> None:
    from features.settings import Settings
    from pipelines.cli.serve import data_version

    settings = Settings(home=tmp_path / "home")
    assert data_version(settings, None) == "store 0 (empty)"
    folder = tmp_path / "market"
    folder.mkdir()
    pd.DataFrame({"contract_id": ["C1"]}).to_parquet(folder / "contracts.parquet")
    first = data_version(settings, folder)
    pd.DataFrame({"contract_id": ["C1", "C2"]}).to_parquet(folder / "contracts.parquet")
    assert first.startswith(f"folder {folder}") and data_version(settings, folder) != first
