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
from models.champion import Comparison, FamilyChoice, choose_family, lightgbm_only
from models.evidence import SegmentEvidence, evidence_by_segment
from models.importance import NULL_RUNS, NullImportance, null_importance
from models.metrics import Discrimination, discrimination
from models.platt import Platt, fit_platt
from models.reasons import Descriptions
from models.risk_model import RiskModel
from models.scaling import GradeCuts, PointsScale
from models.scorecard import Scorecard, fit_scorecard
from models.split import kfold, time_split
from models.table import Columns, Encoder, coerce_target, fit_encoder, infer_columns
from models.woe_card import WoeCard, card_of

REFERENCE_ROWS = 200_000
NOISE_REASON = (
    f"its gain did not beat the gain of {NULL_RUNS} refits on a shuffled target "
    "(null importance)"
)
ROW = "__row__"  # cluster column when each row stands alone


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
    # which family serves which rows, and the intervals it was decided on
    choice: FamilyChoice = field(default_factory=lambda: lightgbm_only("", ""))
    evidence: tuple[SegmentEvidence, ...] = ()
    selection: tuple[NullImportance, ...] = ()  # pooled, then per level (out-of-time only)
    time: str | None = None  # the time column, kept in the held-out rows


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
    fits the WOE scorecard beside, and with ``choose`` the evidence decides which of the two
    serves (:mod:`models.champion`); ``folds`` is k when the table has no time column.
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
    choose: bool = True  # the evidence chooses the serving family (else LightGBM serves)


@dataclass(frozen=True)
class Selection:
    """Feature selection by null importance on the training rows (out-of-time only).

    A feature is kept when its LightGBM gain beats that of every refit on a shuffled target
    (:func:`models.importance.null_importance`), on all training rows or within some level of
    ``within`` (entity kind: a minority's driver is not noise). Both families are then fitted
    on the kept features only, so noise reaches no model.
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
    compare: Comparison


@dataclass(frozen=True)
class _Families:
    """Both families fitted on one encoder, with held-out probabilities of each."""

    booster: lgb.Booster
    platt: Platt
    card: WoeCard | None
    card_platt: Platt | None
    scorecard: Scorecard | None


def _risk_model(opts: _Options, encoder: Encoder, fam: _Families, mono: Sequence[int],
                choice: FamilyChoice) -> RiskModel:
    route = choice.route()
    card = fam.card if "scorecard" in {route.default, *route.families.values()} else None
    return RiskModel(
        opts.policy.kind,
        encoder,
        fam.booster,
        fam.platt,
        opts.scale,
        opts.cuts,
        dict(opts.policy.descriptions),
        {f: d for f, d in zip(encoder.features, mono, strict=True) if d},
        threads=TRAIN_THREADS,
        card=card,
        card_platt=fam.card_platt or Platt(),
        route=route,
    )


def _choose(held: pd.DataFrame, opts: _Options, fam: _Families
            ) -> tuple[FamilyChoice, tuple[SegmentEvidence, ...]]:
    """The evidence on the held-out rows (LightGBM against the scorecard, whole clusters
    resampled) and the serving family it supports."""
    if fam.card is None:
        return lightgbm_only("未拟合评分卡：LightGBM服务", "no scorecard fitted: LightGBM serves"
                             ), ()
    cluster, within = opts.compare.cluster, opts.compare.within
    frame = held if cluster in held else held.assign(**{ROW: np.arange(len(held))})
    within = within if within in held else None
    ceiling = opts.compare.ceiling if opts.compare.ceiling in held else None
    evidence = tuple(evidence_by_segment(
        frame, {"LightGBM": "p_lightgbm", "scorecard": "p_baseline"},
        cluster if cluster in held else ROW, within, ceiling, seed=opts.seed))
    if not opts.policy.choose:
        return lightgbm_only("此模型固定由LightGBM服务", "this model is served by LightGBM by "
                             "policy"), evidence
    return choose_family(evidence, within), evidence


def fit_risk_model(
    df: pd.DataFrame,
    roles: Roles,
    policy: Policy | None = None,
    selection: Selection | None = None,
    *,
    seed: int = 0,
    scale: PointsScale | None = None,
    cuts: GradeCuts | None = None,
    compare: Comparison | None = None,
) -> FitResult:
    """Train LightGBM (and the scorecard baseline) on ``df`` and evaluate out of sample.

    ``roles`` names the label, the time column (out-of-time split; without one, k-fold), the
    candidate features and the columns copied into ``held_out`` for the review; ``scale`` and
    ``cuts`` turn probabilities into points and grades; ``compare`` says how the two families
    are compared (which rows belong together, per which segment) to choose the one that serves.
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
                    seed, compare or Comparison())
    keep = [*roles.carried(df.columns), *([time] if time else [])]
    if time is not None:
        fit = _fit_out_of_time(df, y, _as_time(df[time]), columns, keep, opts)
    else:
        fit = _fit_kfold(df, y, columns, keep, opts)
    fit.time = time
    return fit


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


def _select(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, tr: np.ndarray,
            encoder: Encoder, mono: Sequence[int], rounds: int, opts: _Options
            ) -> tuple[NullImportance, ...]:
    """Null importance on the training rows, pooled then within every level of ``within``;
    a feature is noise only if it beats its null in none of them (:func:`noise_of`)."""
    groups = [tr]
    within = opts.selection.within if opts.selection is not None else None
    if within is not None:
        values = df[within].astype("str").to_numpy()[tr]
        groups += [tr[values == v] for v in np.unique(values)]
    tables = []
    for k, g in enumerate(groups):
        if len(np.unique(y[g])) < 2:
            continue

        def gain(target: np.ndarray, g: np.ndarray = g) -> np.ndarray:
            b = fit_booster(x[g], target, None, None, encoder.features, encoder.categorical_index,
                            mono, opts.policy.params, rounds=rounds, seed=opts.seed)
            return b.feature_importance(importance_type="gain")

        tables.append(null_importance(gain, y[g], encoder.features, seed=opts.seed + k))
    return tuple(tables)


def noise_of(tables: Sequence[NullImportance]) -> list[str]:
    """Features kept by no table (pooled or any level): noise for every kind of entity."""
    if not tables:
        return []
    kept = set().union(*(t.kept for t in tables))
    return [f for f in tables[0].features if f not in kept]


def _without(columns: Columns, noise: Sequence[str]) -> Columns:
    """The same columns less those found to carry no signal, with the reason on record."""
    drop = set(noise)
    return Columns(
        tuple(c for c in columns.numeric if c not in drop),
        tuple(c for c in columns.categorical if c not in drop),
        {**columns.dropped, **dict.fromkeys(noise, NOISE_REASON)},
    )


def _card(df: pd.DataFrame, y: np.ndarray, fit_rows: np.ndarray, columns: Columns,
          encoder: Encoder, x: np.ndarray, seed: int, policy: Policy
          ) -> tuple[Scorecard, WoeCard]:
    scorecard = fit_scorecard(df.iloc[fit_rows], y[fit_rows], columns, seed=seed,
                              monotone=policy.monotone)
    return scorecard, card_of(scorecard, encoder, x[fit_rows])


def _calibrate_card(raw: np.ndarray, y: np.ndarray) -> Platt:
    """Platt scaling of the scorecard on held-out rows, as LightGBM's. Where the scorecard does
    not rank them at all (a tiny market), its own logistic regression is kept as it is — it is
    a calibrated log-odds on its training rows — rather than failing the run: the evidence then
    shows how poorly it ranks."""
    try:
        return fit_platt(raw, y)
    except ValueError:
        return Platt()


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
    model_columns, selected = columns, ()
    if opts.selection is not None:
        selected = _select(df, x, y, tr, encoder, mono, booster.best_iteration, opts)
        noise = noise_of(selected)
        if noise and len(noise) < len(encoder.features):
            model_columns = _without(columns, noise)
            encoder, x, mono, booster = _boost(df, y, tr, va, model_columns, opts)
    scorecard = card = card_platt = None
    if policy.baseline:
        scorecard, card = _card(df, y, tr, model_columns, encoder, x, seed, policy)
        card_platt = _calibrate_card(card.raw(x[va]), y[va])
    fam = _Families(booster, fit_platt(booster.predict(x[va], raw_score=True), y[va]), card,
                    card_platt, scorecard)
    held = _held_out(df, te, y, columns, keep)
    _family_predictions(held, fam, x[te])
    choice, evidence = _choose(held, opts, fam)
    model = _risk_model(opts, encoder, fam, mono, choice)
    held["p_model"] = model.predict_matrix(x[te])
    # PSI reference: the training period as it was, not the bad-enriched training sample
    period = np.flatnonzero(split.train)
    if len(period) > REFERENCE_ROWS:
        period = np.sort(np.random.default_rng(seed).choice(period, REFERENCE_ROWS, replace=False))
    reference = _held_out(df, period, y, columns, keep)
    reference["p_model"] = model.predict_matrix(x[period])
    return FitResult(
        model,
        scorecard,
        model_columns,
        "out-of-time",
        split.windows,
        {**default_params(len(tr), int(y[tr].sum()), seed), **(params or {})},
        booster.best_iteration,
        held,
        reference,
        _metrics(held),
        f"all bads, {len(tr):,} of {int(split.train.sum()):,} training rows"
        if len(tr) < split.train.sum()
        else "all rows",
        split.gap_months,
        choice,
        evidence,
        selected,
    )


def _family_predictions(held: pd.DataFrame, fam: _Families, x: np.ndarray) -> None:
    """Each family's calibrated probability on the held-out rows (``p_lightgbm``,
    ``p_baseline``), the evidence the serving family is chosen on."""
    held["p_lightgbm"] = fam.platt.proba(fam.booster.predict(x, raw_score=True))
    if fam.card is not None and fam.card_platt is not None:
        held["p_baseline"] = fam.card_platt.proba(fam.card.raw(x))


def _metrics(held: pd.DataFrame) -> dict[str, Discrimination]:
    """Discrimination of the served model, of LightGBM and of the scorecard (when fitted)."""
    out = {"served": discrimination(held["y"], held["p_model"]),
           "lightgbm": discrimination(held["y"], held["p_lightgbm"])}
    if "p_baseline" in held:
        out["baseline"] = discrimination(held["y"], held["p_baseline"])
    return out


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
    raw_card = np.empty(len(y))
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
            raw_card[test_i] = _card(df, y, train_i, columns, encoder, x, seed,
                                     policy)[1].raw(x[test_i])
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
    scorecard = card = card_platt = None
    everyone = np.arange(len(y))
    held = _held_out(df, everyone, y, columns, keep)
    held["p_lightgbm"] = platt.proba(raw)
    if baseline:
        scorecard, card = _card(df, y, everyone, columns, encoder, x, seed, policy)
        card_platt = _calibrate_card(raw_card, y)
        held["p_baseline"] = card_platt.proba(raw_card)
    fam = _Families(booster, platt, card, card_platt, scorecard)
    choice, evidence = _choose(held, opts, fam)
    model = _risk_model(opts, encoder, fam, mono, choice)
    # out of fold, each row by the family its level is served by
    served_card = model.route.scorecard_rows(x, encoder)
    held["p_model"] = np.where(served_card, held.get("p_baseline", held["p_lightgbm"]),
                               held["p_lightgbm"])
    return FitResult(
        model,
        scorecard,
        columns,
        "k-fold",
        {"all": ("k-fold", f"{len(best)} folds")},
        {**default_params(len(all_i), int(y[all_i].sum()), seed), **(params or {})},
        rounds,
        held,
        None,
        _metrics(held),
        choice=choice,
        evidence=evidence,
    )
