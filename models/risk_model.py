"""The scoring object the service loads: encoder + model family + calibration + points + reasons.

One class serves both the entity credit model and the contract anomaly model, and both model
families: LightGBM and the WOE scorecard (:mod:`models.woe_card`). Training chooses, on the
evidence, which family serves which rows (:class:`Route`, e.g. the scorecard for institutions);
everything after the calibrated log-odds — probability, points, grade, reasons — is the same
code whichever family scored a row. It is saved as a plain folder (LightGBM text model and one
JSON file), which the MLflow pyfunc wrapper ships as its artifact, so the service can score
with or without MLflow installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.booster import SERVE_THREADS
from models.platt import Platt
from models.reasons import Reason, top_reasons
from models.scaling import GradeCuts, PointsScale
from models.table import Encoder
from models.woe_card import WoeCard

MODEL_FILE = "booster.txt"
META_FILE = "model.json"
Family = Literal["lightgbm", "scorecard"]


@dataclass(frozen=True)
class Route:
    """Which family scores a row: by the level of ``column`` (e.g. entity kind), else
    ``default``. Declared by training from the evidence (:mod:`models.champion`)."""

    default: Family = "lightgbm"
    column: str | None = None
    families: Mapping[str, Family] = field(default_factory=dict)

    def scorecard_rows(self, x: np.ndarray, encoder: Encoder) -> np.ndarray:
        """Mask of the rows the scorecard scores."""
        mask = np.full(len(x), self.default == "scorecard")
        if self.column is None or self.column not in encoder.levels:
            return mask
        codes = x[:, encoder.features.index(self.column)]
        for code, level in enumerate(encoder.levels[self.column]):
            family = self.families.get(level)
            if family is not None:
                mask[codes == code] = family == "scorecard"
        return mask

    def as_dict(self) -> dict:
        return {"default": self.default, "column": self.column, "families": dict(self.families)}


@dataclass
class Scores:
    """Scores of a batch: PD, points, grade, and the top reasons per row."""

    pd: np.ndarray
    points: np.ndarray
    grade: np.ndarray
    reasons: list[list[Reason]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "pd": self.pd,
                "points": self.points,
                "grade": self.grade,
                "reasons_zh": ["；".join(r.text_zh for r in rs) for rs in self.reasons],
                "reasons_en": ["; ".join(r.text_en for r in rs) for rs in self.reasons],
            }
        )


@dataclass
class RiskModel:
    """``booster`` and ``platt`` are LightGBM and its calibration; ``card`` and ``card_platt``
    the scorecard and its own; ``route`` says which scores a row (a family that serves no
    row may be absent)."""

    kind: str  # "credit" or "anomaly"
    encoder: Encoder
    booster: lgb.Booster | None
    platt: Platt
    scale: PointsScale = field(default_factory=PointsScale)
    cuts: GradeCuts = field(default_factory=GradeCuts)
    descriptions: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    monotone: Mapping[str, int] = field(default_factory=dict)
    threads: int = SERVE_THREADS
    card: WoeCard | None = None
    card_platt: Platt = field(default_factory=Platt)
    route: Route = field(default_factory=Route)

    @property
    def features(self) -> tuple[str, ...]:
        return self.encoder.features

    def _split(self, x: np.ndarray) -> np.ndarray:
        return self.route.scorecard_rows(x, self.encoder)

    def logit(self, x: np.ndarray) -> np.ndarray:
        """Calibrated log-odds of the bad outcome, each row by the family that serves it."""
        card = self._split(x)
        out = np.empty(len(x))
        if card.any():
            out[card] = self.card_platt.logit(self.card.raw(x[card]))
        if (~card).any():
            raw = self.booster.predict(x[~card], raw_score=True, num_threads=self.threads)
            out[~card] = self.platt.logit(raw)
        return out

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the bad outcome for every row of a feature table."""
        return self.predict_matrix(self.encoder.matrix(df))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per feature the calibrated log-odds it adds, then the base value (calibration
        intercept included): rows add up to :meth:`logit`. LightGBM's are TreeSHAP, the
        scorecard's its WOE points; both are multiplied by their own Platt slope."""
        card = self._split(x)
        out = np.empty((len(x), x.shape[1] + 1))
        for rows, platt, part in (
            (card, self.card_platt, lambda m: self.card.contributions(m)),
            (~card, self.platt, lambda m: self.booster.predict(
                m, pred_contrib=True, num_threads=self.threads)),
        ):
            if rows.any():
                c = part(x[rows]) * platt.slope
                c[:, -1] += platt.intercept
                out[rows] = c
        return out

    def score_matrix(self, x: np.ndarray, top: int = 3) -> Scores:
        contrib = self.contributions(x)
        logit = contrib.sum(axis=1)
        p = 1.0 / (1.0 + np.exp(-logit))
        points = self.scale.points_from_logit(logit)
        reasons = top_reasons(contrib, x, self.features, self.encoder.levels, self.descriptions,
                              self.scale.factor, top)
        return Scores(p, points, self.cuts.grade(p), reasons)

    def score(self, df: pd.DataFrame, top: int = 3) -> Scores:
        return self.score_matrix(self.encoder.matrix(df), top)

    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(folder / MODEL_FILE))
        meta = {
            "kind": self.kind,
            "encoder": self.encoder.to_json(),
            "platt": {"intercept": self.platt.intercept, "slope": self.platt.slope},
            "scale": {
                "base_score": self.scale.base_score,
                "base_odds": self.scale.base_odds,
                "pdo": self.scale.pdo,
            },
            "bands": self.cuts.model_dump(),
            "descriptions": {k: list(v) for k, v in self.descriptions.items()},
            "monotone": dict(self.monotone),
            "card": None if self.card is None else self.card.to_json(),
            "card_platt": {"intercept": self.card_platt.intercept,
                           "slope": self.card_platt.slope},
            "route": self.route.as_dict(),
        }
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return folder


def load_risk_model(folder: Path, threads: int = SERVE_THREADS) -> RiskModel:
    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text("utf-8"))
    booster = folder / MODEL_FILE
    return RiskModel(
        kind=meta["kind"],
        encoder=Encoder.from_json(meta["encoder"]),
        booster=lgb.Booster(model_file=str(booster)) if booster.exists() else None,
        platt=Platt(**meta["platt"]),
        scale=PointsScale(**meta["scale"]),
        cuts=GradeCuts(**meta["bands"]),
        descriptions={k: tuple(v) for k, v in meta["descriptions"].items()},
        monotone=meta["monotone"],
        threads=threads,
        card=None if meta["card"] is None else WoeCard.from_json(meta["card"]),
        card_platt=Platt(**meta["card_platt"]),
        route=Route(**meta["route"]),
    )
