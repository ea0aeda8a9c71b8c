"""The scoring object the service loads: encoder + booster + calibration + points + reasons.

One class serves both the entity credit model and the contract anomaly model. It is saved
as a plain folder (LightGBM text model and one JSON file), which the MLflow pyfunc wrapper
ships as its artifact, so the service can score with or without MLflow installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.booster import SERVE_THREADS
from models.platt import Platt
from models.reasons import Reason, top_reasons
from models.scaling import GradeCuts, PointsScale
from models.table import Encoder

MODEL_FILE = "booster.txt"
META_FILE = "model.json"


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
    kind: str  # "credit" or "anomaly"
    encoder: Encoder
    booster: lgb.Booster
    platt: Platt
    scale: PointsScale = field(default_factory=PointsScale)
    cuts: GradeCuts = field(default_factory=GradeCuts)
    descriptions: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    monotone: Mapping[str, int] = field(default_factory=dict)
    threads: int = SERVE_THREADS

    @property
    def features(self) -> tuple[str, ...]:
        return self.encoder.features

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The booster's log-odds before calibration."""
        return self.booster.predict(x, raw_score=True, num_threads=self.threads)

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        return self.platt.proba(self.raw(x))

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the bad outcome for every row of a feature table."""
        return self.predict_matrix(self.encoder.matrix(df))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """TreeSHAP on the raw log-odds: per-feature columns then the base value."""
        return self.booster.predict(x, pred_contrib=True, num_threads=self.threads)

    def score_matrix(self, x: np.ndarray, top: int = 3) -> Scores:
        contrib = self.contributions(x)
        raw = contrib.sum(axis=1)
        p = self.platt.proba(raw)
        points = self.scale.points_from_logit(self.platt.logit(raw))
        reasons = top_reasons(
            contrib,
            x,
            self.features,
            self.encoder.levels,
            self.descriptions,
            self.platt.slope,
            self.scale.factor,
            top,
        )
        return Scores(p, points, self.cuts.grade(points), reasons)

    def score(self, df: pd.DataFrame, top: int = 3) -> Scores:
        return self.score_matrix(self.encoder.matrix(df), top)

    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
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
            "cuts": {"a": self.cuts.a, "b": self.cuts.b, "c": self.cuts.c},
            "descriptions": {k: list(v) for k, v in self.descriptions.items()},
            "monotone": dict(self.monotone),
        }
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return folder


def load_risk_model(folder: Path, threads: int = SERVE_THREADS) -> RiskModel:
    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text("utf-8"))
    return RiskModel(
        kind=meta["kind"],
        encoder=Encoder.from_json(meta["encoder"]),
        booster=lgb.Booster(model_file=str(folder / MODEL_FILE)),
        platt=Platt(**meta["platt"]),
        scale=PointsScale(**meta["scale"]),
        cuts=GradeCuts(**meta["cuts"]),
        descriptions={k: tuple(v) for k, v in meta["descriptions"].items()},
        monotone=meta["monotone"],
        threads=threads,
    )
