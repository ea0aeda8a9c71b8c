"""The WOE scorecard as a servable model: bins, weights of evidence and coefficients as data.

optbinning fits the scorecard (:mod:`models.scorecard`) but needs a DataFrame per call and
seconds to import; a champion must score one row from a NumPy array in microseconds, like
LightGBM. So the fitted scorecard is copied into plain arrays over the encoder's matrix
(numeric columns by their split points, categories by their codes) and saved as JSON.

Its log-odds are ``intercept + Σ coef_j · woe_j(x_j)``. The contribution of an attribute is
``coef_j · (woe_j(x_j) − mean_j)``, its WOE points measured from the training average, which
is the exact SHAP value of a linear model; with the base value ``intercept + Σ coef_j ·
mean_j`` they add up to the log-odds exactly, as LightGBM's TreeSHAP does. Reasons, points
and the repair search therefore read both families the same way. Missing and unseen values
get the WOE of the missing bin (``metric_missing="empirical"``, as the scorecard is fitted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from models.scorecard import Scorecard
from models.table import Encoder


@dataclass(frozen=True)
class WoeVariable:
    """One characteristic: numeric ``splits`` with a WOE per bin (len(splits) + 1), or a WOE
    per categorical level (``levels``, in the encoder's code order)."""

    feature: str
    coef: float
    mean: float  # mean of woe over the training rows, the centre of the contributions
    splits: tuple[float, ...] = ()
    woe: tuple[float, ...] = ()
    categorical: bool = False
    missing: float = 0.0  # WOE of a missing (or unseen) value (0 in cards saved before it)

    def values(self, column: np.ndarray) -> np.ndarray:
        """WOE of every value of the encoded column."""
        out = np.full(len(column), self.missing)
        seen = ~np.isnan(column)
        woe = np.asarray(self.woe, dtype=float)
        if self.categorical:
            out[seen] = woe[column[seen].astype(int)]
        else:
            out[seen] = woe[np.searchsorted(np.asarray(self.splits), column[seen], side="right")]
        return out

    def as_dict(self) -> dict:
        return {"feature": self.feature, "coef": self.coef, "mean": self.mean,
                "splits": list(self.splits), "woe": list(self.woe),
                "categorical": self.categorical, "missing": self.missing}


@dataclass(frozen=True)
class WoeCard:
    """The scorecard over an encoder's features; variables the scorecard left out add 0."""

    features: tuple[str, ...]
    intercept: float
    variables: tuple[WoeVariable, ...]

    def _woe(self, x: np.ndarray) -> tuple[list[int], np.ndarray]:
        index = {f: j for j, f in enumerate(self.features)}
        cols = [index[v.feature] for v in self.variables]
        woe = np.column_stack([v.values(x[:, j]) for v, j in zip(self.variables, cols,
                                                                  strict=True)]
                              ) if self.variables else np.zeros((len(x), 0))
        return cols, woe

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Log-odds of a bad outcome as the scorecard's logistic regression gives them."""
        _, woe = self._woe(x)
        return self.intercept + woe @ np.array([v.coef for v in self.variables])

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per feature (encoder order) the attribute's WOE points from the training mean, then
        the base value; rows add up to :meth:`raw`."""
        cols, woe = self._woe(x)
        coef = np.array([v.coef for v in self.variables])
        mean = np.array([v.mean for v in self.variables])
        out = np.zeros((len(x), len(self.features) + 1))
        out[:, cols] = (woe - mean) * coef
        out[:, -1] = self.intercept + float(coef @ mean)
        return out

    def to_json(self) -> dict:
        return {"features": list(self.features), "intercept": self.intercept,
                "variables": [v.as_dict() for v in self.variables]}

    @classmethod
    def from_json(cls, data: Mapping) -> WoeCard:
        return cls(tuple(data["features"]), float(data["intercept"]),
                   tuple(WoeVariable(v["feature"], float(v["coef"]), float(v["mean"]),
                                     tuple(v["splits"]), tuple(v["woe"]), bool(v["categorical"]),
                                     float(v.get("missing", 0.0)))
                         for v in data["variables"]))


def card_of(scorecard: Scorecard, encoder: Encoder, x_train: np.ndarray) -> WoeCard:
    """The fitted scorecard copied over ``encoder``'s matrix; ``x_train`` (the encoded training
    rows) fixes each attribute's mean WOE."""
    chosen = [str(v) for v in scorecard.binning.get_support(names=True)]
    coefs = scorecard.logit.coef_[0]
    index = {f: j for j, f in enumerate(encoder.features)}
    variables = []
    for name, coef in zip(chosen, coefs, strict=True):
        binned = scorecard.binning.get_binned_variable(name)
        table = binned.binning_table.build()
        rows = table[table.index != "Totals"]
        label = rows["Bin"].astype(str)
        woe = [float(w) for w in rows.loc[~label.isin(["Special", "Missing"]), "WoE"]]
        missing = float(rows.loc[label == "Missing", "WoE"].iloc[0])
        if name in encoder.levels:
            by_level = {str(level): w for group, w in zip(binned.splits, woe, strict=False)
                        for level in group}
            v = WoeVariable(name, float(coef), 0.0,
                            woe=tuple(by_level.get(level, missing)
                                      for level in encoder.levels[name]),
                            categorical=True, missing=missing)
        else:
            v = WoeVariable(name, float(coef), 0.0, splits=tuple(float(s) for s in binned.splits),
                            woe=tuple(woe), missing=missing)
        mean = float(v.values(x_train[:, index[name]]).mean()) if len(x_train) else 0.0
        variables.append(WoeVariable(v.feature, v.coef, mean, v.splits, v.woe, v.categorical,
                                     v.missing))
    return WoeCard(encoder.features, float(scorecard.logit.intercept_[0]), tuple(variables))
