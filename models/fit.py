"""Training on any feature table with a binary target: LightGBM beside the scorecard baseline.

With a time column the split is out-of-time (train → early stopping and calibration on the
next period → test on the latest); without one, stratified k-fold gives out-of-fold
predictions for both models and the served booster is refitted on every row. Either way the
result carries the held-out predictions a review needs, so nothing is re-scored later.

A fit is told three things, each a frozen declaration: :class:`Roles` (what each column is
for), :class:`Policy` (how to fit) and :class:`Selection` (how features are chosen);
:mod:`models.specs` composes them, with a panel, a cluster and a name, into a model's spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.booster import TRAIN_THREADS, default_params, fit_booster, monotone_vector
from models.importance import MIN_AUC_DROP, permutation_importance, uninformative
from models.metrics import Discrimination, discrimination
from models.platt import Platt, fit_platt
from models.reasons import Descriptions
from models.risk_model import RiskModel
from models.scaling import GradeCuts, PointsScale
from models.scorecard import Scorecard, fit_scorecard
from models.split import kfold, time_split
from models.table import Columns, Encoder, coerce_target, fit_encoder, infer_columns

REFERENCE_ROWS = 200_000
NOISE_REASON = (
    f"shuffling it cost less than {MIN_AUC_DROP} validation AUC (permutation importance)"
)
SELECTION_ROWS = 60_000  # validation rows shuffled per feature and group


@dataclass
class FitResult:
    """A trained model, its baseline, and everything a review reads about them."""

    model: RiskModel
    baseline: Scorecard | None
    columns: Columns
    method: str  # "out-of-time" or "k-fold"
    windows: dict[str, tuple[str, str]]
    params: dict
    best_iteration: int
    # held-out rows (test period, or out-of-fold): target, predictions, segment columns, features
    held_out: pd.DataFrame
    # training-period rows (unsampled) as the PSI reference; None for k-fold: no earlier period
    reference: pd.DataFrame | None
    metrics: dict[str, Discrimination] = field(default_factory=dict)
    sampling: str = "all rows"
    gap_months: int = 0  # periods left out between train, valid and test (label horizon)


def _as_time(s: pd.Series) -> pd.Series:
    """Text dates become datetimes so that they split by year; other values stay ordered as-is."""
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        try:
            return pd.to_datetime(s)
        except (ValueError, TypeError):
            return s
    return s


def downsample_goods(y: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """Row mask that keeps every bad and a random share of goods so training fits in time.

    Only the training part is ever sampled; validation (where calibration is fitted) and
    test keep their true bad rate, so probabilities stay calibrated.
    """
    keep = np.ones(len(y), dtype=bool)
    if max_rows is None or len(y) <= max_rows:
        return keep
    goods = np.flatnonzero(y == 0)
    n_keep = max(max_rows - int(np.sum(y)), 1)
    rng = np.random.default_rng(seed)
    keep[goods] = False
    keep[rng.choice(goods, size=min(n_keep, len(goods)), replace=False)] = True
    return keep


@dataclass(frozen=True)
class Roles:
    """What each column of a training table is for.

    Only ``features`` are model inputs (candidates: constants, dates and identifier-like text
    among them are dropped with the reason on record). The other roles are carried into the
    held-out rows because the review reads them: ``segments`` (a segment may be a feature too),
    ``keys`` (ids and scores, never features) and ``truth`` (a synthetic market's hidden answer,
    carried when the table has it; ``ceiling`` is the one the review scores beside the model).
    """

    label: str
    features: tuple[str, ...]
    time: str | None = None
    segments: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    truth: tuple[str, ...] = ()
    ceiling: str | None = None

    def __post_init__(self) -> None:
        roles = {self.label, *([self.time] if self.time else []), *self.keys, *self.truth}
        clash = roles.intersection(self.features)
        if clash:
            raise ValueError(f"label, time, key and truth columns are never features: {clash}")

    @classmethod
    def of_table(cls, columns: Iterable[str], label: str, time: str | None = None,
                 segments: Sequence[str] = (), exclude: Sequence[str] = ()) -> Roles:
        """Any table: every column but the label, the time and ``exclude`` is a candidate."""
        skip = {label, *([time] if time else []), *exclude}
        return cls(label, tuple(c for c in columns if c not in skip), time, tuple(segments))

    def carried(self, columns: Iterable[str]) -> list[str]:
        """The columns the held-out rows keep beside the features, those the table has."""
        have = set(columns)
        return [c for c in dict.fromkeys([*self.segments, *self.keys, *self.truth]) if c in have]

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The table cut to its roles: features, label, time, then the carried columns."""
        cols = [*self.features, self.label, *([self.time] if self.time else []),
                *self.carried(df.columns)]
        return df[list(dict.fromkeys(cols))]


@dataclass(frozen=True)
class Policy:
    """How a model is fitted, beyond its columns.

    ``kind`` is what the model scores (an entity's credit, a contract's anomaly) and travels
    with it; ``monotone`` maps a feature to its risk direction (+1 more is riskier); ``params``
    override LightGBM's defaults; ``max_train_rows`` caps training rows by sampling goods only;
    ``gap_months`` (the label horizon) leaves whole periods out between train, valid and test
    so that no outcome is shared across them (:func:`models.split.time_split`); ``baseline``
    fits the WOE scorecard beside; ``folds`` is k when the table has no time column.
    Categorical handling and calibration are the same for every model: text columns become
    codes over the training levels (:mod:`models.table`), and Platt scaling is fitted on the
    validation period (or out of fold).
    """

    kind: str = "credit"
    monotone: Mapping[str, int] = field(default_factory=dict)
    descriptions: Descriptions = field(default_factory=dict)
    params: Mapping[str, object] | None = None
    max_train_rows: int | None = None
    gap_months: int = 0
    baseline: bool = True
    folds: int = 5


@dataclass(frozen=True)
class Selection:
    """Feature selection by permutation importance (out-of-time only).

    LightGBM is refitted without the features whose shuffling costs less than
    :data:`models.importance.MIN_AUC_DROP` validation AUC, pooled and within every level of
    ``within`` (entity kind: a minority's driver is not noise); the scorecard baseline still
    chooses among all.
    """

    within: str | None = None


@dataclass(frozen=True)
class _Options:
    """What both evaluation schemes pass through unchanged to the model they build."""

    policy: Policy
    selection: Selection | None
    scale: PointsScale
    cuts: GradeCuts
    seed: int


def _risk_model(opts: _Options, encoder: Encoder, booster: lgb.Booster, platt: Platt,
                mono: Sequence[int]) -> RiskModel:
    return RiskModel(
        opts.policy.kind,
        encoder,
        booster,
        platt,
        opts.scale,
        opts.cuts,
        dict(opts.policy.descriptions),
        {f: d for f, d in zip(encoder.features, mono, strict=True) if d},
        threads=TRAIN_THREADS,
    )


def fit_risk_model(
    df: pd.DataFrame,
    roles: Roles,
    policy: Policy | None = None,
    selection: Selection | None = None,
    *,
    seed: int = 0,
    scale: PointsScale | None = None,
    cuts: GradeCuts | None = None,
) -> FitResult:
    """Train LightGBM (and the scorecard baseline) on ``df`` and evaluate out of sample.

    ``roles`` names the label, the time column (out-of-time split; without one, k-fold), the
    candidate features and the columns copied into ``held_out`` for the review; ``scale`` and
    ``cuts`` turn probabilities into points and grades.
    """
    target, time = roles.label, roles.time
    if target not in df.columns:
        raise KeyError(
            f"target column {target!r} not in the table; columns: {list(df.columns)[:20]}"
        )
    if time is not None and time not in df.columns:
        raise KeyError(f"time column {time!r} not in the table")
    df = roles.frame(df).reset_index(drop=True)
    y = coerce_target(df[target])
    columns = infer_columns(df[list(roles.features)], target)
    opts = _Options(policy or Policy(), selection, scale or PointsScale(), cuts or GradeCuts(),
                    seed)
    keep = roles.carried(df.columns)
    if time is not None:
        return _fit_out_of_time(df, y, _as_time(df[time]), columns, keep, opts)
    return _fit_kfold(df, y, columns, keep, opts)


def _held_out(
    df: pd.DataFrame, rows: np.ndarray, y: np.ndarray, columns: Columns, keep: Sequence[str]
) -> pd.DataFrame:
    cols = list(dict.fromkeys([*columns.features, *[k for k in keep if k in df.columns]]))
    out = df.loc[rows, cols].reset_index(drop=True)
    out.insert(0, "y", y[rows])
    return out


def _boost(
    df: pd.DataFrame, y: np.ndarray, tr: np.ndarray, va: np.ndarray, columns: Columns,
    opts: _Options,
) -> tuple[Encoder, np.ndarray, list[int], lgb.Booster]:
    """Encoder fitted on the training rows, the encoded table, constraints, early-stopped trees."""
    encoder = fit_encoder(df.iloc[tr], columns)
    x = encoder.matrix(df)
    mono = monotone_vector(encoder.features, opts.policy.monotone, columns.categorical)
    booster = fit_booster(
        x[tr],
        y[tr],
        x[va],
        y[va],
        encoder.features,
        encoder.categorical_index,
        mono,
        opts.policy.params,
        seed=opts.seed,
    )
    return encoder, x, mono, booster


def _levels(df: pd.DataFrame, rows: np.ndarray, within: str | None) -> list[np.ndarray]:
    """The validation rows pooled, then per level of ``within``."""
    groups = [rows]
    if within is not None:
        values = df[within].astype("str").to_numpy()[rows]
        groups += [rows[values == v] for v in np.unique(values)]
    return groups


def _noise(booster: lgb.Booster, x: np.ndarray, y: np.ndarray, groups: list[np.ndarray],
           features: Sequence[str], seed: int) -> list[str]:
    """Features uninformative on the pooled validation rows *and* within every group.

    Judged pooled only, a feature that matters for a minority (institutions are a tenth of
    the credit panel) looks like noise and is dropped; so each group has its say.
    """
    rng = np.random.default_rng(seed)
    verdicts = []
    for g in groups:
        if len(np.unique(y[g])) < 2:
            continue
        if len(g) > SELECTION_ROWS:
            g = np.sort(rng.choice(g, SELECTION_ROWS, replace=False))
        table = permutation_importance(
            lambda m: booster.predict(m, raw_score=True), x[g], y[g], features, seed=seed
        )
        verdicts.append(set(uninformative(table)))
    return [f for f in features if verdicts and all(f in v for v in verdicts)]


def _without(columns: Columns, noise: Sequence[str]) -> Columns:
    """The same columns less those found to carry no signal, with the reason on record."""
    drop = set(noise)
    return Columns(
        tuple(c for c in columns.numeric if c not in drop),
        tuple(c for c in columns.categorical if c not in drop),
        {**columns.dropped, **dict.fromkeys(noise, NOISE_REASON)},
    )


def _fit_out_of_time(
    df: pd.DataFrame,
    y: np.ndarray,
    t: pd.Series,
    columns: Columns,
    keep: Sequence[str],
    opts: _Options,
) -> FitResult:
    policy, seed = opts.policy, opts.seed
    params, max_train_rows = policy.params, policy.max_train_rows
    split = time_split(t, gap_months=policy.gap_months)
    for part in ("train", "valid", "test"):
        if len(np.unique(y[getattr(split, part)])) < 2:
            raise ValueError(f"the {part} period {split.windows[part]} has only one class")
    tr = np.flatnonzero(split.train)
    tr = tr[downsample_goods(y[tr], max_train_rows, seed)]
    va, te = np.flatnonzero(split.valid), np.flatnonzero(split.test)
    encoder, x, mono, booster = _boost(df, y, tr, va, columns, opts)
    model_columns = columns
    if opts.selection is not None:
        noise = _noise(booster, x, y, _levels(df, va, opts.selection.within), encoder.features,
                       seed)
        if noise and len(noise) < len(encoder.features):
            model_columns = _without(columns, noise)
            encoder, x, mono, booster = _boost(df, y, tr, va, model_columns, opts)
    platt = fit_platt(booster.predict(x[va], raw_score=True), y[va])
    model = _risk_model(opts, encoder, booster, platt, mono)
    card = fit_scorecard(df.iloc[tr], y[tr], columns, seed=seed) if policy.baseline else None
    held = _held_out(df, te, y, columns, keep)
    held["p_model"] = model.predict_matrix(x[te])
    # PSI reference: the training period as it was, not the bad-enriched training sample
    period = np.flatnonzero(split.train)
    if len(period) > REFERENCE_ROWS:
        period = np.sort(np.random.default_rng(seed).choice(period, REFERENCE_ROWS, replace=False))
    reference = _held_out(df, period, y, columns, keep)
    reference["p_model"] = model.predict_matrix(x[period])
    metrics = {"lightgbm": discrimination(held["y"], held["p_model"])}
    if card is not None:
        held["p_baseline"] = card.predict(df.iloc[te])
        metrics["baseline"] = discrimination(held["y"], held["p_baseline"])
    return FitResult(
        model,
        card,
        model_columns,
        "out-of-time",
        split.windows,
        {**default_params(len(tr), int(y[tr].sum()), seed), **(params or {})},
        booster.best_iteration,
        held,
        reference,
        metrics,
        f"all bads, {len(tr):,} of {int(split.train.sum()):,} training rows"
        if len(tr) < split.train.sum()
        else "all rows",
        split.gap_months,
    )


def _fit_kfold(
    df: pd.DataFrame,
    y: np.ndarray,
    columns: Columns,
    keep: Sequence[str],
    opts: _Options,
) -> FitResult:
    policy, seed = opts.policy, opts.seed
    monotone, params, max_train_rows = policy.monotone, policy.params, policy.max_train_rows
    baseline = policy.baseline
    encoder = fit_encoder(df, columns)
    x = encoder.matrix(df)
    mono = monotone_vector(encoder.features, monotone, columns.categorical)
    raw = np.empty(len(y))
    p_base = np.empty(len(y))
    best = []
    for k, (train_i, test_i) in enumerate(kfold(y, policy.folds, seed)):
        inner_tr, inner_va = kfold(y[train_i], 5, seed + k)[0]
        fit_i, stop_i = train_i[inner_tr], train_i[inner_va]
        fit_i = fit_i[downsample_goods(y[fit_i], max_train_rows, seed + k)]
        booster = fit_booster(
            x[fit_i],
            y[fit_i],
            x[stop_i],
            y[stop_i],
            encoder.features,
            encoder.categorical_index,
            mono,
            params,
            seed=seed,
        )
        best.append(booster.best_iteration)
        raw[test_i] = booster.predict(x[test_i], raw_score=True)
        if baseline:
            card = fit_scorecard(df.iloc[train_i], y[train_i], columns, seed=seed)
            p_base[test_i] = card.predict(df.iloc[test_i])
    rounds = int(np.ceil(np.mean(best)))
    all_i = np.flatnonzero(downsample_goods(y, max_train_rows, seed))
    booster = fit_booster(
        x[all_i],
        y[all_i],
        None,
        None,
        encoder.features,
        encoder.categorical_index,
        mono,
        params,
        rounds=rounds,
        seed=seed,
    )
    platt = fit_platt(raw, y)
    model = _risk_model(opts, encoder, booster, platt, mono)
    card = fit_scorecard(df, y, columns, seed=seed) if baseline else None
    everyone = np.arange(len(y))
    held = _held_out(df, everyone, y, columns, keep)
    held["p_model"] = platt.proba(raw)
    metrics = {"lightgbm": discrimination(y, held["p_model"])}
    if baseline:
        held["p_baseline"] = p_base
        metrics["baseline"] = discrimination(y, p_base)
    return FitResult(
        model,
        card,
        columns,
        "k-fold",
        {"all": ("k-fold", f"{len(best)} folds")},
        {**default_params(len(all_i), int(y[all_i].sum()), seed), **(params or {})},
        rounds,
        held,
        None,
        metrics,
    )
