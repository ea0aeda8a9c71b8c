"""The batch scoring flow (批量评分与风险预警): every active institution and broker at a date,
with risk warnings, and the contracts registered since the last run, into the operational DB.

Thin wiring over pure functions: :func:`models.scoring.score_entities` scores, the entity rules
warn (:mod:`models.rules.warn`), :mod:`models.rules.contract_tier` tiers the contracts, and
:mod:`pipelines.scoring.batch_db` reads and inserts rows. Everything slow happens before the
database is written; the writes and the audit entry are one transaction, so a failed run
leaves nothing behind. Scores are never overwritten: a re-run at the same date with the same
model version writes no score (and says "already scored"), a new version or date adds rows.
A backfill (a date before the latest scored one, or ``backfill=True``) writes scores only unless
warnings and cases are asked for (:mod:`pipelines.scoring.side_effects`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from features.point_in_time.build import build_features
from features.point_in_time.history import History, prepare
from features.settings import Settings, get_settings
from models.loading import load_anomaly, load_scorer
from models.registry import CHAMPION
from models.risk_model import RiskModel
from models.rules.contract_tier import TierBands, contract_tier
from models.rules.entity import (
    GRADES,
    AnomalyShare,
    EntityRules,
    WarningInputs,
)
from models.rules.kinds import ENTITY
from models.rules.reviews import in_force
from models.rules.tier import Tier
from models.rules.warn import RiskAlert, anomaly_shares, warn
from models.scoring import (
    TOP_REASONS,
    EntityScore,
    EntityScorer,
    ModelRef,
    contract_inputs,
    covered_through,
    entity_regions,
    known_scores,
    score_entities,
)
from pipelines.scoring import batch_db as db
from pipelines.scoring.adhoc import check_as_of, read_store
from pipelines.scoring.side_effects import SideEffects, check_switches, side_effects
from service.core.cases.policy import CasePolicy
from service.core.cases.service import Names, open_from_warnings
from service.core.db.audit import AuditRecord, append
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import require_migrated
from service.core.db.types import utcnow

ACTOR = "batch"
ACTION = "score.batch"


@dataclass(frozen=True)
class Models:
    scorer: EntityScorer  # the credit version, with the anomaly version it was trained with
    anomaly: RiskModel  # the anomaly version behind the alias: scores new contracts
    anomaly_ref: ModelRef


@dataclass(frozen=True)
class Scored:
    """Everything the run computed before it touches the database."""

    as_of: pd.Timestamp
    scores: list[EntityScore]
    regions: dict[db.Key, str]
    shares: dict[db.Key, AnomalyShare]
    contracts: list[db.BatchContract]  # every contract registered from ``first_day`` to as_of
    first_day: date  # first registration day of the contracts considered


@dataclass(frozen=True)
class BatchSummary:
    as_of: date
    credit: ModelRef
    anomaly: ModelRef  # scored the contracts
    rules_version: int
    scored: int  # score rows written
    skipped: int  # entities already scored at this date by this model version
    grades: dict[str, int]  # of the rows written, A to D
    warnings: dict[str, int]  # red to blue
    contracts: int  # batch contract checks written
    first_day: date
    audit_id: int
    effects: SideEffects
    cases_opened: int = 0  # flagged dishonesty cases opened (or merged into) from warnings

    @property
    def already_scored(self) -> bool:
        return self.scored == 0 and self.skipped > 0


def scoring_features(scorer: EntityScorer, tables: dict[str, pd.DataFrame], h: History,
                     as_of: pd.Timestamp, first: pd.Timestamp
                     ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Features at ``as_of`` with contract rows from early enough to cover both the contracts
    after the scorer's stored scores and those from ``first``, and those contract rows with
    the attributes the anomaly model reads."""
    start = min(covered_through(scorer.stored) + pd.Timedelta(days=1), first)
    features = build_features(h, as_of, contracts_from=start)
    return features, contract_inputs(features["contract"], tables["contracts"])


def score_all(models: Models, tables: dict[str, pd.DataFrame], h: History, as_of: pd.Timestamp,
              since: date | None, rules: EntityRules, bands: TierBands) -> Scored:
    """Score every entity present at ``as_of`` and every contract registered from ``since``
    (the last batch run's latest registration day; without one, the warning window) to
    ``as_of``. Features are built as :func:`pipelines.scoring.adhoc.score_entity_at` builds them,
    from early enough to cover both the contracts after the stored scores and the new ones."""
    first = (pd.Timestamp(since) if since is not None
             else as_of - pd.Timedelta(days=rules.anomaly.days - 1))
    scorer = models.scorer
    features, later = scoring_features(scorer, tables, h, as_of, first)
    shares = anomaly_shares(known_scores(scorer, later, as_of), as_of, rules.anomaly)
    reg = pd.to_datetime(later["registered_date"])
    new = later[(reg >= first) & (reg <= as_of)]
    return Scored(as_of, score_entities(scorer, features, later, as_of),
                  entity_regions(tables, as_of), shares,
                  _contracts(models, new, tables["contracts"], bands), first.date())


def _contracts(models: Models, rows: pd.DataFrame, contracts: pd.DataFrame, bands: TierBands
               ) -> list[db.BatchContract]:
    if not len(rows):
        return []
    s = models.anomaly.score(rows, top=TOP_REASONS)
    ids = contracts["contract_id"].astype("str")
    region = pd.Series(contracts["seller_region"].to_numpy(), index=ids).reindex(
        rows["contract_id"].astype("str"))
    out = []
    for i, (row, seller) in enumerate(zip(rows.itertuples(index=False), region, strict=True)):
        p = float(s.pd[i])
        out.append(db.BatchContract(
            str(row.contract_id), pd.Timestamp(row.registered_date).date(), p,
            contract_tier(bands, p, ()), tuple(s.reasons[i]), models.anomaly_ref,
            _text(row.institution_id), _text(row.broker_id), _text(seller)))
    return out


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@dataclass(frozen=True)
class Asked:
    """The run's switches for what it writes beside scores (None: the default)."""

    backfill: bool = False
    warnings: bool | None = None
    cases: bool | None = None


def write(engine: Engine, models: Models, scored: Scored, rules: EntityRules,
          asked: Asked = Asked()) -> BatchSummary:
    """Insert what is new, with its warnings (unless a backfill not asked for them) and one
    audit entry, in one transaction. Whether the date is in the past is read in the same
    transaction as the writes."""
    day = scored.as_of.date()
    credit = models.scorer.credit_ref
    with session_factory(engine).begin() as session:
        effects = side_effects(day, db.latest_as_of(session), backfill=asked.backfill,
                               warnings=asked.warnings, cases=asked.cases)
        done = db.scored_keys(session, day, credit)
        exited = db.exited_institutions(session)  # by a published assessment: not scored
        active = [s for s in scored.scores if (s.kind, s.entity_id) not in exited]
        new = [s for s in active if (s.kind, s.entity_id) not in done]
        warned: list[tuple[EntityScore, RiskAlert]] = []
        contracts: list[db.BatchContract] = []
        if effects.warnings:
            previous = db.previous_grades(session, day)
            alerts = warn(rules, [WarningInputs(
                s.points, s.probability, s.grade, previous.get((s.kind, s.entity_id)),
                scored.shares.get((s.kind, s.entity_id))) for s in new])
            warned = [(s, a) for s, a in zip(new, alerts, strict=True) if a is not None]
            last = db.last_batch_day(session)
            checked = db.batch_checked_since(session, last) if last is not None else set()
            contracts = [c for c in scored.contracts if c.contract_id not in checked
                         and (last is None or c.registered_date >= last)]
        db.insert_scores(session, new, scored.regions)
        db.insert_warnings(session, warned, scored.regions)
        db.insert_contract_checks(session, contracts)
        grades, tiers = Counter(s.grade for s in new), Counter(a.tier for _, a in warned)
        counts = {"scored": len(new), "skipped": len(active) - len(new),
                  "grades": {g: grades[g] for g in GRADES},
                  "warnings": {t.value: tiers[t] for t in Tier}, "contracts": len(contracts)}
        entry = append(session, AuditRecord(
            actor=ACTOR, action=ACTION, outcome="ok", source="flow:score-batch",
            detail={"as_of": day.isoformat(), **counts,
                    "credit_model": [credit.name, credit.version],
                    "credit_anomaly_model": [models.scorer.anomaly_ref.name,
                                             models.scorer.anomaly_ref.version],
                    "contract_model": [models.anomaly_ref.name, models.anomaly_ref.version],
                    "warning_rules": [rules.version, rules.sha256],
                    "contracts_from": scored.first_day.isoformat(),
                    "backfill": effects.backfill, "raised_warnings": effects.warnings,
                    "opens_cases": effects.cases}))
    return BatchSummary(day, credit, models.anomaly_ref, rules.version, counts["scored"],
                        counts["skipped"], counts["grades"], counts["warnings"],
                        counts["contracts"], scored.first_day, entry.id, effects)


@task(name="load-models", cache_policy=NO_CACHE)
def load_task(settings: Settings, alias: str) -> Models:
    anomaly, ref = load_anomaly(settings, alias)
    return Models(load_scorer(settings, alias), anomaly, ref)


@task(name="read-store", cache_policy=NO_CACHE)
def store_task(settings: Settings, source: Path | None
               ) -> tuple[dict[str, pd.DataFrame], History]:
    tables = read_store(settings, source)
    return tables, prepare(tables)


@task(name="last-batch-day", cache_policy=NO_CACHE)
def last_batch_task(engine: Engine) -> date | None:
    with session_factory(engine)() as session:
        return db.last_batch_day(session)


@task(name="score-all", cache_policy=NO_CACHE)  # inputs are models and whole tables
def score_task(models: Models, tables: dict[str, pd.DataFrame], h: History,
               as_of: pd.Timestamp, since: date | None, rules: EntityRules,
               bands: TierBands) -> Scored:
    return score_all(models, tables, h, as_of, since, rules, bands)


@task(name="write-scores", cache_policy=NO_CACHE)
def write_task(engine: Engine, models: Models, scored: Scored, rules: EntityRules,
               asked: Asked = Asked()) -> BatchSummary:
    return write(engine, models, scored, rules, asked)


def subject_names(tables: dict[str, pd.DataFrame]) -> Names:
    """Names and regions of the register's subjects, for the cases warnings open."""
    inst = tables["institutions"].drop_duplicates("institution_id", keep="last")
    brokers = tables["brokers"].drop_duplicates("broker_id", keep="last")
    return Names(
        {("institution", i): n for i, n in zip(inst["institution_id"], inst["name"],
                                                strict=True)},
        {**{("institution", i): r for i, r in zip(inst["institution_id"], inst["region"],
                                                   strict=True)},
         **{("broker", b): r for b, r in zip(brokers["broker_id"], brokers["region"],
                                              strict=True)}})


@task(name="open-cases", cache_policy=NO_CACHE)
def cases_task(engine: Engine, settings: Settings, tables: dict[str, pd.DataFrame],
               as_of: date) -> int:
    """Warnings in the case-opening tiers flag dishonesty cases for a person to work."""
    opened = open_from_warnings(session_factory(engine), as_of,
                                CasePolicy.from_settings(settings), subject_names(tables),
                                utcnow())
    return len(opened)


@flow(name="score-batch")
def score_batch_flow(as_of: str, source: Path | None = None, settings: Settings | None = None,
                     alias: str = CHAMPION, backfill: bool = False,
                     warnings: bool | None = None, cases: bool | None = None) -> BatchSummary:
    """Score every active institution and broker at ``as_of`` with the models behind
    ``alias``, warn, check new contracts and record it all (批量评分).

    A backfill (``as_of`` before the latest scored as-of, or ``backfill``) writes scores only;
    ``warnings`` and ``cases`` ask for them (or, True/False, switch them for any run)."""
    check_switches(warnings, cases)
    s = settings or get_settings()
    rules = in_force(s, ENTITY).rules
    engine = make_engine(s.db_url)
    try:
        require_migrated(engine)  # refuse before the slow part
        tables, h = store_task(s, source)
        day = check_as_of(h, as_of)
        models = load_task(s, alias)
        scored = score_task(models, tables, h, day, last_batch_task(engine), rules,
                            TierBands.from_settings(s))
        summary = write_task(engine, models, scored, rules, Asked(backfill, warnings, cases))
        if not summary.effects.cases:
            return summary
        return replace(summary, cases_opened=cases_task(engine, s, tables, summary.as_of))
    finally:
        engine.dispose()


def batch_json(s: BatchSummary) -> dict:
    """The summary for programs (``--json``): every field of the dataclass the text formats
    (dates, models and side effects as they are, counts per grade and tier) and whether the
    date was scored already; encoded by :mod:`pipelines.cli.as_json`."""
    return {**asdict(s), "already_scored": s.already_scored}


def format_summary(s: BatchSummary) -> str:
    """The run in Chinese and English: what was written, and with which versions."""
    grades = ", ".join(f"{g} {n}" for g, n in s.grades.items())
    tiers = ", ".join(f"{Tier(t).zh} {t} {n}" for t, n in s.warnings.items())
    lines = [
        f"批量评分 batch scoring as of 评价日 {s.as_of:%Y-%m-%d}",
        f"模型 models: {s.credit.label()}; 合同 contracts: {s.anomaly.label()}; "
        f"预警规则 warning rules v{s.rules_version}",
    ]
    if s.already_scored:
        lines.append(f"已评分 already scored: {s.skipped} entities at this date with "
                     f"{s.credit.name} v{s.credit.version}; no score written / 未写入新评分")
    else:
        lines.append(f"评分 scored {s.scored} entities ({grades}); "
                     f"已评分跳过 already scored {s.skipped}")
    lines.append(s.effects.describe())
    if s.effects.warnings:
        lines += [
            f"预警 warnings: {tiers}",
            f"合同核查 contracts checked: {s.contracts} registered {s.first_day:%Y-%m-%d} … "
            f"{s.as_of:%Y-%m-%d} and not checked before",
        ]
    if s.effects.cases:
        lines.append(f"失信案件 cases flagged from warnings: {s.cases_opened} (opened or merged)")
    lines.append(f"审计 audit entry {s.audit_id} ({ACTION})")
    return "\n".join(lines)
