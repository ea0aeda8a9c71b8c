"""The contract a registration office sends, generated from the data standard's columns.

Types, enums, id patterns, bounds, "not in the future" and the standard's cross-field rules
all come from :data:`features.standard.tables.CONTRACTS`, so the API refuses exactly what
ingest would quarantine, field by field (422 naming the field and the rule).
"""

from __future__ import annotations

import operator
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from features.standard.schema import Column
from features.standard.tables import CONTRACTS
from models.contract_input import CHECK_COLUMNS

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
CHECKED = {c.name for c in CHECK_COLUMNS}
RULES = tuple(r for r in CONTRACTS.rules if r.left in CHECKED and r.right in CHECKED)


def _field(c: Column) -> tuple[Any, Any]:
    kind: Any = {"str": str, "float": float, "int": int, "date": date, "bool": bool}[c.dtype]
    if c.enum is not None:
        kind = Literal[tuple(c.enum.codes)]
    constraints: dict[str, Any] = {"description": f"{c.zh} / {c.en}"}
    if c.pattern is not None:
        constraints["pattern"] = c.pattern
    elif c.dtype == "str" and c.enum is None:
        constraints["max_length"] = 200
    if c.min is not None:
        constraints["ge"] = c.min
    if c.max is not None:
        constraints["le"] = c.max
    if c.dtype == "float":
        constraints["allow_inf_nan"] = False
    if c.nullable:
        return kind | None, Field(default=None, **constraints)
    return kind, Field(..., **constraints)


class _ContractBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _standard_rules(self) -> _ContractBase:
        today = date.today()
        for c in CHECK_COLUMNS:
            value = getattr(self, c.name)
            if c.not_in_future and value is not None and value > today:
                raise ValueError(f"{c.name} {value} is in the future / 日期不能晚于今天")
        for r in RULES:
            left, right = getattr(self, r.left), getattr(self, r.right)
            if left is not None and right is not None and not OPS[r.op](left, right):
                raise ValueError(f"{r.name}: {r.left} {r.op} {r.right} fails ({left} vs {right})"
                                 f" / {r.zh}")
        return self

    def record(self) -> dict[str, Any]:
        """The contract as the online state and the model read it: dates as Timestamps."""
        out = self.model_dump()
        for c in CHECK_COLUMNS:
            if c.dtype == "date" and out[c.name] is not None:
                out[c.name] = pd.Timestamp(out[c.name])
        return out


ContractIn = create_model(  # type: ignore[call-overload]
    "ContractIn", __base__=_ContractBase, __doc__="A contract as registered (standard columns).",
    **{c.name: _field(c) for c in CHECK_COLUMNS})


class HitOut(BaseModel):
    rule_id: str
    severity: str
    zh: str
    en: str


class ReasonOut(BaseModel):
    feature: str
    zh: str
    en: str
    logit: float = Field(description="how much this factor raised the log-odds")


class CheckOut(BaseModel):
    contract_id: str
    registered_date: date
    probability: float = Field(description="calibrated probability the contract is found false")
    tier: Literal["red", "orange", "yellow", "blue"] | None
    reasons: list[ReasonOut]
    rule_hits: list[HitOut]
    registered: bool = Field(description="the contract joined the registry state")
    model_name: str
    model_version: str
    alias: str | None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contracts: list[ContractIn] = Field(min_length=1, max_length=1000)  # type: ignore[valid-type]


class BatchOut(BaseModel):
    results: list[CheckOut]
