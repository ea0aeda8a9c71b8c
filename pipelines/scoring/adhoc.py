"""Scoring one entity or a file of contracts with registered models.

Loads a version by alias (default ``champion``) or number, the artifacts training stored with
it (:data:`models.scoring.CREDIT_INPUTS`, the anomaly run's contract scores) and the curated
store (or a ``--source`` market folder). An entity is scored by the pure functions of
:mod:`models.scoring`; contracts by the service's own check
(:mod:`service.core.contracts.check`) on the store version's ledger snapshot, so the
command line answers what the API answers.
Every input problem surfaces as a :class:`~models.scoring.ScoringError` with a one-line
message.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from features.point_in_time.build import build_features
from features.point_in_time.history import History, day_of, prepare
from features.settings import Settings
from models.contract_input import parse_contracts
from models.credit_reasons import CreditReason
from models.loading import load_anomaly, load_scorer
from models.registry import CHAMPION
from models.rules.tier import Tier
from models.scoring import (
    EntityScore,
    ScoringError,
    contract_inputs,
    covered_through,
    records,
    score_entity,
)
from service.core.contracts.check import answer, check_records
from service.core.contracts.ledger import checker_of
from service.core.contracts.schemas import CheckOut
from service.core.contracts.stored import Pinned, Unversioned


def read_store(settings: Settings, source: Path | None) -> dict[str, pd.DataFrame]:
    """The standard tables, as the feature flow reads them (store snapshot or market folder)."""
    from pipelines.build_features import load_tables

    if source is not None:
        if not (source / "contracts.parquet").exists():
            raise ScoringError(f"--source {source} holds no contracts.parquet")
    else:
        from pipelines.store.curated import snapshot

        if snapshot(settings).version("contracts") is None:
            raise ScoringError("the curated store is empty: run `techcredit ingest FILES` "
                               "or give --source MARKET_FOLDER")
    return load_tables(settings, source)


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def check_as_of(h: History, as_of: str | pd.Timestamp) -> pd.Timestamp:
    """The as-of date, refused outside the registrations and records the store holds."""
    try:
        ts = pd.Timestamp(date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
                          ).normalize()
    except ValueError:
        raise ScoringError(f"--as-of must look like 2020-06-30, got {as_of!r}") from None
    first, last = int(h.contracts["reg"].min()), h.last_day
    if not first <= day_of(ts) <= last:
        raise ScoringError(f"--as-of {ts:%Y-%m-%d} is outside the data "
                           f"({_date(first)} … {_date(last)}) / 日期超出数据范围")
    return ts


def score_entity_at(settings: Settings, entity_id: str, as_of: str | pd.Timestamp,
                    source: Path | None = None, alias: str | None = CHAMPION,
                    version: str | None = None) -> EntityScore:
    """One institution or broker at ``as_of``: features built from the store for that date,
    anomaly aggregates from the stored scores, contracts after them scored by the model."""
    scorer = load_scorer(settings, alias, version)
    tables = read_store(settings, source)
    h = prepare(tables)
    ts = check_as_of(h, as_of)
    start = covered_through(scorer.stored) + pd.Timedelta(days=1)
    features = build_features(h, ts, contracts_from=start)
    later = contract_inputs(features["contract"], tables["contracts"])
    return score_entity(scorer, features, later, entity_id, ts)


def read_contract_file(path: Path) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030) or JSON file (one object or a list) of contracts."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text("utf-8"))
            frame = pd.DataFrame([data] if isinstance(data, dict) else data)
        else:
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            except UnicodeDecodeError:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except (OSError, ValueError, pd.errors.ParserError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ScoringError(f"{path.name}: not a readable contract file: {reason}") from None
    return parse_contracts(frame, path.name)


def check_contract_file(settings: Settings, path: Path, source: Path | None = None,
                        alias: str | None = CHAMPION, version: str | None = None
                        ) -> list[CheckOut]:
    """Each contract of the file as ``POST /api/v1/contracts/check`` answers it: the same
    ledger (the store's tables under the rules in force), the same function, the same answer;
    a later contract of the file sees the earlier ones, and nothing is kept."""
    contracts = read_contract_file(path)
    anomaly, ref = load_anomaly(settings, alias, version)
    checker, _ = checker_of(settings, _pinned(settings, source))
    return [answer(r) for r in check_records(checker, anomaly, ref, records(contracts), True)]


def _pinned(settings: Settings, source: Path | None) -> Pinned:
    """The store's current version, whose ledger snapshot spares the replay; a market
    folder has none."""
    if source is not None:
        return Unversioned(lambda: read_store(settings, source))
    from pipelines.store.ledger_snapshots import StorePin

    pin = StorePin(settings)
    if pin.store.version("contracts") is None:
        read_store(settings, None)  # says the store is empty
    return pin


def _credit_reasons(reasons: tuple[CreditReason, ...]) -> list[str]:
    if not reasons:
        return ["  无 none: no actionable factor raised the risk above the model's base"]
    return [f"  {i}. [{r.code}] {r.text_zh} / {r.text_en}\n"
            f"     措施 action: {r.action_zh} / {r.action_en}" for i, r in enumerate(reasons, 1)]


def format_entity(s: EntityScore) -> str:
    """Score, grade, probability and reasons in Chinese and English, and the versions used."""
    kind = {"institution": "机构 institution", "broker": "经纪人 broker"}[s.kind]
    lines = [
        f"{s.entity_id} {kind}, as of 评价日 {s.as_of:%Y-%m-%d}",
        f"信用分 score {s.points:.0f}  等级 grade {s.grade}  "
        f"违约概率 probability {s.probability:.2%}",
        "主要原因 top reasons (扣分 points lost; 可采取的措施 what the entity can do):",
        *_credit_reasons(s.reasons),
        "信用修复指引 credit repair guidance:",
        f"  主体 entity: {s.repair.entity_zh} / {s.repair.entity_en}",
        f"  监管 regulator: {s.repair.regulator_zh} / {s.repair.regulator_en}",
        f"模型 model: {s.model.label()}; 异常聚合 anomaly inputs: {s.anomaly_model.name} "
        f"v{s.anomaly_model.version} (the version {s.model.name} v{s.model.version} was "
        "trained with)",
    ]
    return "\n".join(lines)


def entity_json(s: EntityScore) -> str:
    """The entity's score at full precision, for programs (``--json``)."""
    return json.dumps({**asdict(s), "repair": s.repair.as_dict()}, ensure_ascii=False,
                      indent=2, default=str)


def contracts_json(checks: list[CheckOut]) -> str:
    """The checks exactly as the API answers them, for programs (``--json``)."""
    return json.dumps([c.model_dump(mode="json") for c in checks], ensure_ascii=False, indent=2)


def format_contract(c: CheckOut) -> str:
    """Probability, tier, reasons and rule hits in Chinese and English, and the version."""
    tier = f"{Tier(c.tier).zh} {c.tier}" if c.tier else "无 none"
    via = f"@{c.alias}" if c.alias else "(by version)"
    lines = [
        f"{c.contract_id} 登记 registered {c.registered_date:%Y-%m-%d}: "
        f"异常概率 anomaly probability {c.probability:.2%}  预警 tier {tier}",
        *([f"  {i}. {r.zh} / {r.en}  (logit +{r.logit:.2f})" for i, r in enumerate(c.reasons, 1)]
          or ["  无 none: no factor raised the risk above the model's base"]),
        *[f"  规则 rule {h.rule_id} ({h.severity}): {h.zh} / {h.en}" for h in c.rule_hits],
        f"模型 model: {c.model_name} v{c.model_version} {via}",
    ]
    return "\n".join(lines)
