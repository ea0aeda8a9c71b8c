"""The real app on a real database, once per backend per test process.

``api`` starts :func:`service.web.app.create_app` on a migrated SQLite file and on a fresh
PostgreSQL database, fills the scores as the batch run does (``pipelines.scoring.batch``'s own
steps, without Prefect's orchestration), waits for ``/readyz``, and issues one token per role
plus a revoked and an expired one. The app is shared by the API test modules, so tests assert
on what they did themselves (counts before and after, audit entries after a mark) and leave
the state valid for the next (a tampered audit row is put back).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from features.point_in_time.history import prepare
from features.settings import (
    DatabaseSettings,
    PollingSettings,
    SecuritySettings,
    Settings,
    WarningSettings,
)
from models.registry import CHAMPION
from models.rules.contract_tier import TierBands
from models.rules.entity import EntityRules
from models.rules.kinds import ENTITY
from models.rules.reviews import in_force
from pipelines.scoring.adhoc import check_as_of, read_store
from pipelines.scoring.batch import (
    BatchSummary,
    Models,
    Scored,
    last_batch_task,
    load_task,
    score_task,
    write_task,
)
from service.core.context import ServiceContext
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import upgrade
from service.core.db.tables import ApiToken, AuditEntry, Score
from service.core.db.types import utcnow
from service.core.db.users import add_user, revoke_user
from service.web.app import create_app
from tests.service.backends import BACKENDS, fresh_postgres_database
from tests.trained import Trained, build, copy_home, shared_folder

AS_OF = "2020-06-30"  # the batch date the scores are written at
REGION = "110000"  # the limited regulator's region (Beijing): holds scored entities of both kinds
READY_TIMEOUT_S = 120.0  # generous: start-up loads two models on a possibly busy machine


# Authorization headers every route refuses with 401 ("expired" and "revoked" stand for the
# tokens of those users, issued by ``issue_tokens``)
BAD_TOKENS = {
    "none": None,
    "not bearer": "Basic dXNlcjpwYXNz",
    "malformed": "Bearer not-a-token",
    "unknown": "Bearer tc_0123456789ab_" + "x" * 43,
    "expired": "expired",
    "revoked": "revoked",
}


@dataclass(frozen=True)
class UserSpec:
    name: str
    role: str
    regions: tuple[str, ...] = ()
    institution: bool = False  # the institution user: bound to ``Entities.institution_in``


USERS = (
    UserSpec("regulator_region", "regulator", (REGION,)),
    UserSpec("regulator_all", "regulator"),
    UserSpec("office", "office"),
    UserSpec("institution", "institution", institution=True),
    UserSpec("reviewer", "reviewer"),
    UserSpec("auditor", "auditor"),
    UserSpec("admin", "admin"),
)


@dataclass(frozen=True)
class Entities:
    """Scored entities inside and outside ``REGION``."""

    institution_in: str
    institution_out: str
    broker_in: str
    broker_out: str


@dataclass
class Api:
    backend: str
    client: TestClient
    settings: Settings
    engine: Engine  # for the tests' own reads and edits of the database
    tokens: dict[str, str]  # user name -> token; also "revoked" and "expired"
    entities: Entities
    batch: BatchSummary
    trained: Trained

    @property
    def app(self) -> FastAPI:
        return self.client.app  # type: ignore[return-value]

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str | None = None, **kwargs: Any) -> Response:
        return self.client.get(path, headers=self.auth(user) if user else None, **kwargs)

    def post(self, path: str, user: str | None = None, **kwargs: Any) -> Response:
        return self.client.post(path, headers=self.auth(user) if user else None, **kwargs)

    def session(self) -> Session:
        return session_factory(self.engine)()

    def audit_mark(self) -> int:
        """The last audit id now: entries after it are what the next requests wrote."""
        with self.session() as session:
            return session.scalar(select(func.max(AuditEntry.id))) or 0

    def audit_since(self, mark: int) -> list[AuditEntry]:
        with self.session() as session:
            return list(session.scalars(
                select(AuditEntry).where(AuditEntry.id > mark).order_by(AuditEntry.id)))


def contract_body(trained: Trained, contract_id: str, row: int = -1,
                  **changes: Any) -> dict[str, Any]:
    """A contract as a registration office sends it: a real one of the market (its last by
    default), under a new id, with ``changes`` applied."""
    contracts = contract_rows(trained.source)
    record = contracts.iloc[row].to_dict()
    body: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("status"):
            continue
        if isinstance(value, float) and value != value:
            value = None
        elif isinstance(value, date | pd.Timestamp):
            value = pd.Timestamp(value).date().isoformat()
        body[key] = value
    return {**body, "contract_id": contract_id, **changes}


def market_offices(trained: Trained) -> list[str]:
    """Every registration office of the market: the test office user registers for all."""
    return sorted(contract_rows(trained.source)["office_id"].dropna().unique())


_CONTRACTS: dict[Path, pd.DataFrame] = {}


def contract_rows(source: Path) -> pd.DataFrame:
    if source not in _CONTRACTS:
        _CONTRACTS[source] = pd.read_parquet(source / "contracts.parquet")
    return _CONTRACTS[source]


WARNING_RULES = Path(__file__).with_name("warning_rules.toml")


@functools.cache
def _batch(home: Path, source: Path, as_of: str) -> tuple[Models, Scored, EntityRules]:
    """The batch run's models and results before any database is written: computed once
    per test process, written to each backend's database. It warns by the tests' own rules
    (``warning_rules.toml``): the repository's warn almost nobody on a 1 % market."""
    settings = Settings(home=home, warnings=WarningSettings(rules=WARNING_RULES))
    rules = in_force(settings, ENTITY).rules
    tables = read_store(settings, source)
    h = prepare(tables)
    models = load_task.fn(settings, CHAMPION)
    scored = score_task.fn(models, tables, h, check_as_of(h, as_of), None, rules,
                           TierBands.from_settings(settings))
    return models, scored, rules


def batch_score(trained: Trained, engine: Engine, as_of: str) -> BatchSummary:
    """What ``techcredit score --as-of`` writes to a database no batch has run on: the flow's
    own steps, in order, without Prefect's orchestration (a task called outside a flow would
    start a Prefect server)."""
    assert last_batch_task.fn(engine) is None  # so the shared results are this run's
    models, scored, rules = _batch(trained.settings.home, trained.source, as_of)
    return write_task.fn(engine, models, scored, rules)


def wait_ready(client: TestClient, timeout_s: float = READY_TIMEOUT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        ready = client.get("/readyz")
        if ready.status_code == 200:
            return ready.json()
        assert time.monotonic() < deadline, f"not ready after {timeout_s} s: {ready.json()}"
        time.sleep(0.1)


def issue_tokens(engine: Engine, own_institution: str,
                 offices: Sequence[str] = ()) -> dict[str, str]:
    """One user and token per role (the office user bound to ``offices``), a revoked user and
    a user whose token expired."""
    tokens: dict[str, str] = {}
    with session_factory(engine).begin() as session:
        for spec in USERS:
            _, tokens[spec.name] = add_user(
                session, spec.name, spec.role, spec.regions,
                own_institution if spec.institution else None,
                offices=offices if spec.role == "office" else ())
        _, tokens["revoked"] = add_user(session, "revoked", "admin")
        revoke_user(session, "revoked")
        user, tokens["expired"] = add_user(session, "expired", "admin", expires_days=1)
        session.execute(update(ApiToken).where(ApiToken.user_id == user.id)
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    return tokens


def pick_entities(engine: Engine) -> Entities:
    with session_factory(engine)() as session:
        def first(kind: str, inside: bool) -> str:
            where = Score.region == REGION if inside else Score.region != REGION
            found = session.scalar(select(Score.entity_id).where(
                Score.entity_kind == kind, where).order_by(Score.entity_id).limit(1))
            assert found is not None, f"no scored {kind} {'in' if inside else 'outside'} {REGION}"
            return found

        return Entities(first("institution", True), first("institution", False),
                        first("broker", True), first("broker", False))


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.fixture(scope="session", params=BACKENDS)
def api_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """An empty database for the shared app: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('api-sqlite') / 'techcredit.db'}"
        return
    with fresh_postgres_database("api") as url:
        yield url


def start_api(backend: str, db_url: str, trained: Trained, **settings: Any) -> Iterator[Api]:
    """Migrate, score, issue tokens, start the app and wait until it is ready."""
    # The shared models are polled once: the registry client keeps its URI in MLflow's global
    # state, so a second app in this process polling another registry (the hot-swap tests)
    # must not race this one. The permission matrix sends hundreds of bad tokens from one
    # test client, each to be audited: the failed-authentication limit is lifted (its own
    # tests set it). ``settings`` may override.
    s = Settings(**{"home": trained.settings.home, "database": DatabaseSettings(url=db_url),
                    "polling": PollingSettings(model_seconds=3600.0),
                    "security": SecuritySettings(auth_failures_per_minute=1_000_000),
                    **settings})
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        summary = batch_score(trained, engine, AS_OF)
        entities = pick_entities(engine)
        tokens = issue_tokens(engine, entities.institution_in, market_offices(trained))
        with TestClient(create_app(s, trained.tables)) as client:
            wait_ready(client)
            yield Api(backend, client, s, engine, tokens, entities, summary, trained)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def api(api_db_url: str, trained: Trained, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Api]:
    """The app on its own copy of the models' home: the matrix promotes and records reviews."""
    backend = "sqlite" if api_db_url.startswith("sqlite") else "postgresql"
    home = copy_home(trained.settings.home_dir, tmp_path_factory.mktemp("api") / "home")
    yield from start_api(backend, api_db_url, trained, home=home)


def login_form(client: TestClient, token: str) -> dict[str, str]:
    """The console's sign-in form as a browser fills it: the page is read first, for the form
    token its cookie and hidden field carry."""
    page = client.get("/console/login")
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and found, page.text
    return {"token": token, "login_token": found.group(1)}
