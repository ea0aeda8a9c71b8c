"""The contract a registration office sends, generated from the data standard's columns.

Types, enums, id patterns, bounds, "not before the market opened", "not in the future" and
the standard's cross-field rules all come from :data:`features.standard.tables.CONTRACTS`, so
the API refuses exactly what ingest would quarantine, field by field (422 naming the field
and the rule).
"""

from __future__ import annotations

import operator
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator
from pydantic_core import PydanticCustomError

from features.standard.schema import Column, Rule
from features.standard.tables import CONTRACTS, table
from models.contract_input import CHECK_COLUMNS
from models.rules.tier import Tier

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
CHECKED = {c.name for c in CHECK_COLUMNS}
RULES = tuple(r for r in CONTRACTS.rules if r.left in CHECKED and r.right in CHECKED)


def _pattern(c: Column) -> str | None:
    """The column's pattern; for a reference, the referenced key's (a value that cannot be a
    key references nothing, and ingest quarantines it)."""
    if c.pattern is None and c.references is not None:
        name, _, key = c.references.partition(".")
        return table(name).column(key).pattern
    return c.pattern


def _field(c: Column) -> tuple[Any, Any]:
    kind: Any = {"str": str, "float": float, "int": int, "date": date, "bool": bool}[c.dtype]
    if c.enum is not None:
        kind = Literal[tuple(c.enum.codes)]
    constraints: dict[str, Any] = {"description": f"{c.zh} / {c.en}"}
    if _pattern(c) is not None:
        constraints["pattern"] = _pattern(c)
    elif c.dtype == "str" and c.enum is None:
        constraints["max_length"] = 200
    if c.min is not None:
        constraints["ge"] = c.min
    if c.max is not None:
        constraints["le"] = c.max
    if c.not_before is not None:
        constraints["ge"] = date.fromisoformat(c.not_before)
    if c.dtype == "float":
        constraints["allow_inf_nan"] = False
    if c.nullable:
        return kind | None, Field(default=None, **constraints)
    return kind, Field(..., **constraints)


class _ContractBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def record(self) -> dict[str, Any]:
        """The contract as the online state and the model read it: dates as Timestamps."""
        out = self.model_dump()
        for c in CHECK_COLUMNS:
            if c.dtype == "date" and out[c.name] is not None:
                out[c.name] = pd.Timestamp(out[c.name])
        return out


# The standard's "not in the future" and cross-field rules are field validators, so a refusal
# names its field (a cross-field rule names the later of its two fields, validated once the
# earlier one is) and its rule as the error type, like every other 422.
ORDER = [c.name for c in CHECK_COLUMNS]


def _not_in_future(cls: type, value: Any, info: ValidationInfo) -> Any:
    if value is not None and value > date.today():
        raise PydanticCustomError("not_in_future",
                                  "{field} {value} is in the future / 日期不能晚于今天",
                                  {"field": info.field_name, "value": str(value)})
    return value


def _rule_validator(rule: Rule) -> tuple[str, Any]:
    """The field a cross-field rule is checked on, and its validator."""
    later = max(rule.left, rule.right, key=ORDER.index)

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        left = value if later == rule.left else info.data.get(rule.left)
        right = value if later == rule.right else info.data.get(rule.right)
        if left is not None and right is not None and not OPS[rule.op](left, right):
            raise PydanticCustomError(
                rule.name, "{rule}: {left} {op} {right} fails ({left_value} vs {right_value}) "
                "/ {zh}", {"rule": rule.name, "left": rule.left, "op": rule.op,
                           "right": rule.right, "left_value": str(left),
                           "right_value": str(right), "zh": rule.zh})
        return value

    check.__name__ = f"_rule_{rule.name}"
    return later, check


def _validators() -> dict[str, Any]:
    out: dict[str, Any] = {}
    future = [c.name for c in CHECK_COLUMNS if c.not_in_future]
    if future:
        out["_not_in_future"] = field_validator(*future)(_not_in_future)
    for rule in RULES:
        name, check = _rule_validator(rule)
        out[check.__name__] = field_validator(name)(check)
    return out


ContractIn = create_model(  # type: ignore[call-overload]
    "ContractIn", __base__=_ContractBase, __doc__="A contract as registered (standard columns).",
    __validators__=_validators(),
    **{c.name: _field(c) for c in CHECK_COLUMNS})


class HitOut(BaseModel):
    rule_id: str
    severity: Tier = Field(description="the tier the rule's hit raises the contract to")
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
    tier: Tier | None
    reasons: list[ReasonOut]
    rule_hits: list[HitOut]
    registered: bool = Field(description="the contract joined the contract ledger")
    model_name: str
    model_version: str
    alias: str | None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contracts: list[ContractIn] = Field(min_length=1, max_length=1000)  # type: ignore[valid-type]


class BatchOut(BaseModel):
    results: list[CheckOut]
