"""The reference a model is monitored against: fixed bins and expected shares per variable.

Bins are fixed once, on the rows of the model's training window, and kept with the model
version as a JSON artifact, so every month is compared with the same cut points: re-cutting
deciles on each month would hide a shift inside the new quantiles. Numeric variables (and the
score) get quantile bins plus a bin for missing values; categorical ones a bin per category
seen in training, one for unseen categories and one for missing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from models.metrics import quantile_edges
from models.risk_model import RiskModel

SCORE = "score"  # the credit points, always monitored first
OTHER = "<other>"  # a category the training window never saw
MISSING = "<missing>"


class Kind(StrEnum):
    score = "score"
    numeric = "numeric"
    categorical = "categorical"


def _numeric(values: pd.Series | np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float,
                                                                      na_value=np.nan)


@dataclass(frozen=True)
class VariableReference:
    """One variable's fixed bins and the share of training rows in each.

    ``expected`` has one share per bin in :meth:`bin_labels` order: for numeric variables the
    ``len(edges) + 1`` value bins (a value equal to an edge goes to the bin above it) then
    missing; for categorical ones each level, then unseen categories, then missing.
    """

    name: str
    kind: Kind
    edges: tuple[float, ...]
    levels: tuple[str, ...]
    expected: tuple[float, ...]

    def counts(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Rows of ``values`` in each bin (same order as ``expected``)."""
        if self.kind is Kind.categorical:
            s = pd.Series(values)
            text = s.astype("str").where(s.notna())
            codes = pd.Index(self.levels, dtype="str").get_indexer(text)
            codes = np.where(codes >= 0, codes, len(self.levels))  # unseen → other
            codes = np.where(text.isna().to_numpy(), len(self.levels) + 1, codes)
            return np.bincount(codes, minlength=len(self.levels) + 2).astype(float)
        x = _numeric(values)
        miss = np.isnan(x)
        bins = np.searchsorted(np.asarray(self.edges, dtype=float), x[~miss], side="right")
        counts = np.bincount(bins, minlength=len(self.edges) + 1)
        return np.r_[counts, miss.sum()].astype(float)

    def shares(self, values: pd.Series | np.ndarray) -> np.ndarray:
        counts = self.counts(values)
        return counts / max(counts.sum(), 1.0)

    def bin_labels(self) -> tuple[str, ...]:
        if self.kind is Kind.categorical:
            return (*self.levels, OTHER, MISSING)
        bounds = ["-inf", *(f"{e:g}" for e in self.edges), "inf"]
        return (*(f"[{lo}, {hi})" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)),
                MISSING)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "edges": list(self.edges),
                "levels": list(self.levels), "expected": list(self.expected)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariableReference:
        return cls(str(data["name"]), Kind(data["kind"]),
                   tuple(float(e) for e in data["edges"]),
                   tuple(str(v) for v in data["levels"]),
                   tuple(float(v) for v in data["expected"]))


def fit_variable(name: str, values: pd.Series | np.ndarray, kind: Kind, bins: int
                 ) -> VariableReference:
    """Bins of one variable from its training-window values (quantiles or categories)."""
    edges: tuple[float, ...] = ()
    levels: tuple[str, ...] = ()
    if kind is Kind.categorical:
        levels = tuple(sorted(pd.Series(values).dropna().astype("str").unique()))
    else:
        edges = tuple(float(e) for e in quantile_edges(_numeric(values), bins))
    bare = VariableReference(name, kind, edges, levels, ())
    return replace(bare, expected=tuple(float(v) for v in bare.shares(values)))


@dataclass(frozen=True)
class Reference:
    """Everything a month is compared with, for one model version."""

    model_name: str
    model_version: str
    window: tuple[str, str]  # first and last as-of date of the training rows
    rows: int
    bins: int
    variables: tuple[VariableReference, ...]  # the score first, then features by importance

    def as_dict(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_version": self.model_version,
                "window": list(self.window), "rows": self.rows, "bins": self.bins,
                "variables": [v.as_dict() for v in self.variables]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        first, last = data["window"]
        return cls(str(data["model_name"]), str(data["model_version"]), (str(first), str(last)),
                   int(data["rows"]), int(data["bins"]),
                   tuple(VariableReference.from_dict(v) for v in data["variables"]))


def fit_reference(frame: pd.DataFrame, features: Sequence[str], categorical: Collection[str],
                  *, bins: int, model_name: str, model_version: str, window: tuple[str, str]
                  ) -> Reference:
    """The reference of a model version from its training-window rows: ``frame`` holds the
    score column :data:`SCORE` and every feature in ``features``."""
    if not len(frame):
        raise ValueError("the training window has no rows to fix the monitoring bins on")
    variables = [fit_variable(SCORE, frame[SCORE], Kind.score, bins)]
    variables += [fit_variable(f, frame[f], Kind.categorical if f in categorical
                               else Kind.numeric, bins) for f in features]
    return Reference(model_name, model_version, window, len(frame), bins, tuple(variables))


def gain_importance(model: RiskModel) -> dict[str, float]:
    """Total split gain per feature: what the trees lean on, hence what drift would move."""
    gain = model.booster.feature_importance(importance_type="gain")
    return {f: float(g) for f, g in zip(model.features, gain, strict=True)}


def top_features(importance: Mapping[str, float], n: int) -> tuple[str, ...]:
    """The ``n`` most important features, largest first (ties by name).

    A model whose trees use fewer than ``n`` features (a stump fitted on a tiny market) is
    watched on its other inputs too, in the model's own order, so that drift is never judged
    on the score alone while the inputs move.
    """
    used = [f for f, v in sorted(importance.items(), key=lambda fv: (-fv[1], fv[0])) if v > 0]
    rest = [f for f in importance if f not in used]
    return tuple([*used, *rest][:n])
