"""Everything a request may need, built once at start-up and kept on ``app.state``.

The register tables come from a callable handed to :func:`service.web.app.create_app` (the command
line passes the curated store; tests pass a generated market), so the service never imports
the pipelines that write the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings
from service.core.cases.calendar import WorkCalendar, china_day
from service.core.cases.policy import CasePolicy
from service.core.champions.holder import ModelHolder
from service.core.contracts.batcher import MicroBatcher
from service.core.contracts.checker import CheckItem, CheckResult, ContractChecker
from service.core.contracts.directory import EntityInfo
from service.core.db.types import utcnow
from service.core.journal import Journal
from service.core.market_index import MarketIndex
from service.core.metrics import Metrics
from service.core.model_registry.catalog_cache import CatalogCache
from service.core.scores.read_model import ReadModel
from service.core.token_cache import TokenCache

TablesLoader = Callable[[], Mapping[str, pd.DataFrame]]
STATE_NOT_BUILT = "contract ledger not built yet"  # until the first build ends, well or not


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]  # writes: the journal
    readers: sessionmaker[Session]  # a request's reads (no write lock on SQLite)
    journal: Journal
    holder: ModelHolder
    metrics: Metrics
    tokens: TokenCache
    scores: ReadModel  # the score answers, kept in memory
    checks: MicroBatcher[CheckItem, CheckResult]  # concurrent single checks, scored together
    checker: ContractChecker | None = None  # None until the contract ledger is built
    directory: dict[tuple[str, str], EntityInfo] = field(default_factory=dict)
    state_problem: str | None = STATE_NOT_BUILT  # None once a state serves
    state_stale: str | None = None  # the last rebuild failed: the older state still serves
    state_built_at: datetime | None = None
    state_source: str | None = None  # how the ledger's state was obtained (snapshot or built)
    market_index: MarketIndex | None = None  # the console's market page, from the register
    clock: Callable[[], datetime] = utcnow  # injectable: tests move time across deadlines
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    catalogs: CatalogCache = field(default_factory=CatalogCache)  # the reviewers' pages

    @cached_property
    def case_policy(self) -> CasePolicy:  # settings do not change while the service runs
        return CasePolicy.from_settings(self.settings)

    def today(self) -> date:
        """Today in China, where legal deadlines are counted."""
        return china_day(self.clock())
