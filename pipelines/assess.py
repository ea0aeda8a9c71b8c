"""The annual assessment flow (年度考核): compute a year's draft and store it for the assessors.

Thin wiring over pure functions: :func:`models.assessment.measures.compute_indicators` reads
the curated tables and the stored scores point-in-time, :func:`models.assessment.outcomes.
assess` groups, ranks and proposes outcomes, :mod:`service.core.assessments.records` writes the
draft. The inputs that are decisions of people come from the database: the institutions an earlier
published assessment warned or made exit (before any, the register's warned status as of the
year's end), and those on the dishonesty list. Everything slow happens before the database is
written; the draft and its audit entry are one transaction. A re-run replaces a draft; a
published year is refused. The person who runs it is recorded, and may not publish it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select

from features.settings import Settings, get_settings
from models.assessment.config import AssessmentConfig, load_config
from models.assessment.measures import compute_indicators, year_end
from models.assessment.outcomes import Assessment, assess
from pipelines.scoring.adhoc import read_store
from service.core.assessments import records
from service.core.db.audit import AuditRecord, append
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import require_migrated
from service.core.db.tables import User
from service.core.db.types import Role, utcnow

ACTION = "assessment.run"
RUNNERS = (Role.assessor.value, Role.admin.value)


class AssessError(ValueError):
    """A refused run, in one line."""


@dataclass(frozen=True)
class Inputs:
    """What the run reads from the operational database."""

    scores: pd.DataFrame  # institution scores dated by the year's end
    warned: frozenset[str]  # under a warning when the year ends
    exited: frozenset[str]  # made to exit by an earlier published assessment
    listed: frozenset[str]  # on the dishonesty list when the draft is made


@dataclass(frozen=True)
class AssessSummary:
    year: int
    by: str
    config_version: int
    config_sha256: str
    quota: int
    counts: dict[str, int]  # pass, warning, exit
    assessed: int
    warned_before: int
    listed: int
    replaced: bool  # an earlier draft of the year was replaced
    version: int  # the draft's version: adjust and publish name it
    audit_id: int
    flagged: tuple[str, ...] = ()  # passes despite grade D or a red warning


def read_inputs(engine: Engine, tables: dict[str, pd.DataFrame], year: int, today: date
                ) -> Inputs:
    end = year_end(year)
    with session_factory(engine)() as session:
        decided = records.statuses(session, before_year=year)
        inst = tables["institutions"]
        registry_warned = inst.loc[(inst["status"] == "warned") & (
            pd.to_datetime(inst["status_date"]) <= end), "institution_id"].astype("str")
        warned = {i for i in registry_warned if i not in decided} | {
            i for i, r in decided.items() if r.status == "warned"}
        exited = {i for i, r in decided.items() if r.status == "exited"}
        return Inputs(records.institution_scores(session, end.date()), frozenset(warned),
                      frozenset(exited), frozenset(records.listed_institutions(session, today)))


def compute(config: AssessmentConfig, tables: dict[str, pd.DataFrame], inputs: Inputs,
            year: int, quota: int) -> Assessment:
    registered = pd.to_datetime(tables["contracts"]["registered_date"]).dt.year
    if not registered.min() <= year <= registered.max():
        raise AssessError(f"--year {year} is outside the data ({registered.min()}-"
                          f"{registered.max()}) / 年度超出数据范围")
    frame = compute_indicators(config, tables, inputs.scores, year, inputs.exited)
    return assess(config, frame, year, inputs.warned, inputs.listed, quota)


def write(engine: Engine, config: AssessmentConfig, proposal: Assessment, inputs: Inputs,
          by: str) -> AssessSummary:
    """The draft and its audit entry, in one transaction; ``by`` must be an assessor."""
    now = utcnow()
    with session_factory(engine).begin() as session:
        user = session.scalar(select(User).where(User.name == by))
        if user is None or user.revoked_at is not None or user.role not in RUNNERS:
            raise AssessError(f"--by {by!r} is not an active assessor: add one with "
                              "`techcredit users add NAME --role assessor` / "
                              "须由考核评价组成员运行")
        actor = records.Actor(user.name, user.role)
        detail = {"year": proposal.year, "quota": proposal.quota,
                  "config": [config.version, config.sha256], "warned": sorted(inputs.warned),
                  "listed": sorted(inputs.listed), "exited_before": sorted(inputs.exited)}
        try:
            a, replaced = records.write_draft(session, proposal, config.indicators, actor, now,
                                            detail)
        except records.Conflict as e:
            raise AssessError(str(e)) from None
        flagged = tuple(r.institution_id for r in records.flagged(records.results(session,
                                                                                   a.id)))
        entry = append(session, AuditRecord(
            actor=user.name, role=user.role, action=ACTION, outcome="ok", source="flow:assess",
            detail={**detail, "counts": proposal.counts(), "replaced": replaced,
                    "version": a.version, "flagged": list(flagged)}))
    return AssessSummary(proposal.year, by, config.version, config.sha256, proposal.quota,
                         proposal.counts(), len(proposal.results), len(inputs.warned),
                         len(inputs.listed), replaced, a.version, entry.id, flagged)


@task(name="read-store", cache_policy=NO_CACHE)
def store_task(settings: Settings, source: Path | None) -> dict[str, pd.DataFrame]:
    return read_store(settings, source)


@task(name="read-decisions", cache_policy=NO_CACHE)
def inputs_task(engine: Engine, tables: dict[str, pd.DataFrame], year: int) -> Inputs:
    return read_inputs(engine, tables, year, utcnow().date())


@task(name="assess", cache_policy=NO_CACHE)  # inputs are whole tables
def assess_task(config: AssessmentConfig, tables: dict[str, pd.DataFrame], inputs: Inputs,
                year: int, quota: int) -> Assessment:
    return compute(config, tables, inputs, year, quota)


@task(name="write-draft", cache_policy=NO_CACHE)
def write_task(engine: Engine, config: AssessmentConfig, proposal: Assessment, inputs: Inputs,
               by: str) -> AssessSummary:
    return write(engine, config, proposal, inputs, by)


@flow(name="assess")
def assess_flow(year: int, by: str, quota: int | None = None, source: Path | None = None,
                settings: Settings | None = None) -> AssessSummary:
    """Compute the assessment of ``year`` and store it as a draft run by ``by`` (年度考核)."""
    s = settings or get_settings()
    config = load_config(s.assessment.indicators)
    engine = make_engine(s.db_url)
    try:
        require_migrated(engine)  # refuse before the slow part
        tables = store_task(s, source)
        inputs = inputs_task(engine, tables, year)
        proposal = assess_task(config, tables, inputs, year,
                               s.assessment.quota if quota is None else quota)
        return write_task(engine, config, proposal, inputs, by)
    finally:
        engine.dispose()


def assess_json(s: AssessSummary) -> dict:
    """The draft's summary for programs (``--json``): every field the text formats, the
    indicator system's full sha256 and every flagged institution; encoded by
    :mod:`pipelines.cli.as_json`."""
    return asdict(s)


def format_summary(s: AssessSummary) -> str:
    """The run in Chinese and English."""
    c = s.counts
    return "\n".join([
        f"年度考核 annual assessment {s.year}: 草稿 draft v{s.version}"
        f"{' (replaced the earlier draft / 已替换原草稿)' if s.replaced else ''}, run by {s.by}",
        f"指标体系 indicator system v{s.config_version} ({s.config_sha256[:12]}); "
        f"末位淘汰名额 quota {s.quota}",
        f"参评机构 assessed {s.assessed}: 合格 pass {c['pass']}, 警告 warning {c['warning']}, "
        f"退出 exit {c['exit']}",
        f"此前受警告 warned before {s.warned_before}; 失信名单 listed {s.listed}",
        f"信用D级或红色预警而通过 passed despite grade D or a red warning: {len(s.flagged)}"
        + (f" ({', '.join(s.flagged[:10])}{' …' if len(s.flagged) > 10 else ''}): 发布须逐一"
           "填写理由 publishing needs a written reason for each" if s.flagged else ""),
        f"待另一名考核人员复核发布 awaiting review and publication by another assessor; "
        f"审计 audit entry {s.audit_id} ({ACTION})",
    ])
