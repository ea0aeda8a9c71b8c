"""A real server for a real browser: the app under uvicorn on a loopback port, on a SQLite
database scored as the batch run scores it, with cases opened from its warnings."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine

from features.settings import DatabaseSettings, PollingSettings, Settings
from models.assessment.config import load_config
from models.registry import CREDIT_MODEL, tracking_for
from pipelines.assess import compute, read_inputs, write
from service.core.cases.policy import CasePolicy
from service.core.cases.service import Names, open_from_warnings
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.db.types import utcnow
from service.core.db.users import add_user
from service.core.monitoring.tables import DriftCheck, MonitorAlert
from service.web.app import create_app, server_options
from tests.service.web.api.conftest import AS_OF, Entities, batch_score, issue_tokens, pick_entities
from tests.trained import Trained, build, copy_home, register_challenger, shared_folder

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


@dataclass(frozen=True)
class Live:
    url: str
    tokens: dict[str, str]
    entities: Entities
    case_ids: list[int]


def add_drift_alert(engine: Engine, challenger: str) -> None:
    """An ``act`` alert as the monthly monitoring writes it, with the checks behind it."""
    with session_factory(engine).begin() as session:
        session.add(MonitorAlert(
            month="2020-12", model_name=CREDIT_MODEL, model_version="1", level="act",
            variables=["inst_amount_365d", "score"], challenger_version=challenger,
            message_zh="inst_amount_365d PSI 0.41 ≥ 0.25：已重训挑战者模型",
            message_en="inst_amount_365d PSI 0.41 >= 0.25: a challenger was retrained"))
        session.add_all([DriftCheck(month="2020-12", model_name=CREDIT_MODEL, model_version="1",
                                    variable=v, kind=kind, n=57, psi=psi, ks=ks, js=js,
                                    p_value=p, level=level)
                         for v, kind, psi, ks, js, p, level in (
                             ("inst_amount_365d", "numeric", 0.41, 0.31, 0.22, 1e-6, "act"),
                             ("score", "score", 0.12, 0.15, 0.09, 0.004, "watch"))])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.fixture(scope="module")
def live(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make setup installs it)")
    db_url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'techcredit.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    batch_score(trained, engine, AS_OF)
    entities = pick_entities(engine)
    tokens = issue_tokens(engine, entities.institution_in)
    # its own copy of the models: the reviewer's test promotes the challenger registered here
    home = copy_home(trained.settings.home_dir, tmp_path_factory.mktemp("console") / "home")
    settings = Settings(home=home, database=DatabaseSettings(url=db_url),
                        polling=PollingSettings(model_seconds=3600.0))
    challenger = register_challenger(tracking_for(settings), CREDIT_MODEL)
    add_drift_alert(engine, challenger)
    opened = open_from_warnings(session_factory(engine), date.fromisoformat(AS_OF),
                                replace(CasePolicy.from_settings(settings),
                                        open_tiers=frozenset({"red", "orange", "yellow", "blue"})),
                                Names({}, {}), utcnow())
    with session_factory(engine).begin() as session:
        add_user(session, "console_runner", "assessor")
    config, tables = load_config(), dict(trained.tables())
    inputs = read_inputs(engine, tables, 2020, date.today())
    write(engine, config, compute(config, tables, inputs, 2020, 0), inputs, "console_runner")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, trained.tables), host="127.0.0.1",
                                           port=port, log_level="warning",
                                           **server_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the console's server did not become ready"
        time.sleep(0.2)
    try:
        yield Live(url, tokens, entities, [o.case.id for o in opened])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the module's pages."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()
