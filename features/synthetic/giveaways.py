"""The giveaway checker: does any column tell planted rows from honest ones on its own?

For every raw column of every table (and a few views derived from it: a date's month, an
amount's cents, whether a nullable id is empty, whether a broker belongs to another
institution…) it computes the univariate AUC against the truth: contracts against
``is_irregular``, institutions, brokers and their reports against the entity's
``dishonest``, conduct records against their subject's. Text and enum columns are scored
through an out-of-fold level-rate encoding, so a high-cardinality column cannot look
predictive by memorising its own rows. A column that separates the truth without being part
of a declared pattern or outcome (:mod:`features.synthetic.patterns`) is a generator bug.

Pure: takes the tables and the truth, returns typed rows; nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from features.standard.schema import Table
from features.standard.tables import TABLES
from features.synthetic.patterns import IDENTITY_COLUMNS, declared

BAND = 0.05  # an honest column's AUC lies within 0.5 ± BAND (wider only for tiny samples)
_FOLDS = 5
_PRIOR_WEIGHT = 20.0
_IN_SAMPLE_MIN = 30
_SMALL_TABLE = 10_000  # rows below which a categorical AUC is corrected for encoding bias
_SHUFFLES = 20


@dataclass(frozen=True)
class ColumnAuc:
    table: str
    column: str
    derived: str  # "value", "month", "cents", "is_null", …
    auc: float  # raw AUC of the view against the truth (0.5 = no signal)
    positives: int  # distinct positive units (events or entities) behind the figure
    negatives: int
    tolerance: float  # allowed |auc − 0.5|: BAND, or 3 standard errors if that is wider
    declared: bool  # part of a declared pattern or outcome: reported, not held to the band

    @property
    def ok(self) -> bool:
        return self.declared or abs(self.auc - 0.5) <= self.tolerance

    def describe(self) -> str:
        return (f"{self.table}.{self.column} [{self.derived}] AUC {self.auc:.3f} "
                f"(allowed 0.5 ± {self.tolerance:.3f}; {self.positives} vs {self.negatives})")


@dataclass(frozen=True)
class Labelled:
    """A table's rows with their truth label and the unit each row's evidence belongs to."""

    frame: pd.DataFrame
    label: np.ndarray  # bool per row
    unit: np.ndarray  # rows of one event or entity share a unit: the standard error's n


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann–Whitney AUC with ties at half; NaN scores rank lowest."""
    score = np.asarray(score, dtype=float)
    label = np.asarray(label, dtype=bool)
    n1, n0 = int(label.sum()), int((~label).sum())
    if n1 == 0 or n0 == 0:
        return 0.5
    score = np.where(np.isnan(score), -np.inf, score)
    ranks = rankdata(score)
    return float((ranks[label].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def oof_rate(values: np.ndarray, label: np.ndarray, units: np.ndarray | None = None,
             seed: int = 0) -> np.ndarray:
    """Each row's level-rate (smoothed share of positives), from the other folds only.

    Folds go by unit (an event's contracts stay together), so an event cannot vouch for its
    own level. Where each row is its own unit and every level holds ``_IN_SAMPLE_MIN`` rows
    or more, the in-sample rate is used instead: it cannot memorise rows then, and leaving a
    fold out would bias a rare label's AUC below 0.5.
    """
    codes, _ = pd.factorize(pd.Series(values).astype("string").fillna("<NA>"))
    n_codes = int(codes.max()) + 1 if len(codes) else 0
    sizes = np.bincount(codes, minlength=n_codes)
    unit_codes, _ = pd.factorize(pd.Series(np.arange(len(codes)) if units is None else units))
    n_units = int(unit_codes.max()) + 1 if len(unit_codes) else 0
    if n_codes and sizes.min() >= _IN_SAMPLE_MIN and n_units == len(codes):
        return np.bincount(codes, weights=label.astype(float), minlength=n_codes)[codes] / sizes[
            codes]
    fold = (np.random.default_rng(seed).permutation(n_units) % _FOLDS)[unit_codes]
    y = label.astype(float)
    idx = fold * n_codes + codes
    cnt = np.bincount(idx, minlength=_FOLDS * n_codes).reshape(_FOLDS, n_codes)
    pos = np.bincount(idx, weights=y, minlength=_FOLDS * n_codes).reshape(_FOLDS, n_codes)
    prior = y.mean() if len(y) else 0.0
    cnt_out = cnt.sum(axis=0)[codes] - cnt[fold, codes]
    pos_out = pos.sum(axis=0)[codes] - pos[fold, codes]
    return (pos_out + _PRIOR_WEIGHT * prior) / (cnt_out + _PRIOR_WEIGHT)


def _date_views(s: pd.Series) -> Iterator[tuple[str, np.ndarray]]:
    d = pd.to_datetime(s)
    yield "value", (d - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float)
    yield "month", d.dt.month.to_numpy(dtype=float)
    yield "day_of_month", d.dt.day.to_numpy(dtype=float)
    yield "year_end", ((d.dt.month == 12) & (d.dt.day == 31)).to_numpy(dtype=float)
    yield "weekday", d.dt.day_of_week.to_numpy(dtype=float)


def _amount_views(x: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    fen = np.round(x * 100).astype(np.int64)
    yield "cents", (fen % 100 != 0).astype(float)
    yield "round_100", (fen % 10_000 == 0).astype(float)
    yield "round_10k", (fen % 1_000_000 == 0).astype(float)


def _contract_views(c: pd.DataFrame, tables: dict[str, pd.DataFrame]
                    ) -> Iterator[tuple[str, str, np.ndarray]]:
    """Views that need another table: what a foreign id says about the contract."""
    inst = tables["institutions"].set_index("institution_id")
    brk = tables["brokers"].set_index("broker_id")
    reg = pd.to_datetime(c["registered_date"])
    b_inst = c["broker_id"].map(brk["institution_id"])
    yield "broker_id", "other_institution", (
        c["broker_id"].notna() & b_inst.notna() & (b_inst != c["institution_id"])
    ).to_numpy(dtype=float)
    certified = pd.to_datetime(c["broker_id"].map(brk["certified_date"]))
    yield "broker_id", "certified_after_registration", (certified > reg).to_numpy(dtype=float)
    founded = pd.to_datetime(c["institution_id"].map(inst["founded_date"]))
    exited = pd.to_datetime(c["institution_id"].map(
        inst["status_date"].where(inst["status"] == "exited")))
    yield "institution_id", "not_alive", ((founded > reg) | (exited < reg)).to_numpy(dtype=float)
    yield "buyer_region", "same_as_seller", (
        c["buyer_region"] == c["seller_region"]).to_numpy(dtype=float)
    yield "signed_date", "lag_days", (
        reg - pd.to_datetime(c["signed_date"])).dt.days.to_numpy(dtype=float)
    yield "tech_amount_yuan", "share", (c["tech_amount_yuan"] / c["amount_yuan"]).to_numpy()


def views(t: Table, df: pd.DataFrame, tables: dict[str, pd.DataFrame]
          ) -> Iterator[tuple[str, str, np.ndarray, bool]]:
    """(column, derivation, values, categorical) for every scored view of a table's columns."""
    for col in t.columns:
        s = df[col.name]
        if col.nullable:
            yield col.name, "is_null", s.isna().to_numpy(dtype=float), False
        if f"{t.name}.{col.name}" in IDENTITY_COLUMNS:
            continue
        if col.dtype == "date":
            for name, v in _date_views(s):
                yield col.name, name, v, False
        elif col.dtype in ("int", "float"):
            x = s.to_numpy(dtype=float)
            yield col.name, "value", x, False
            if col.name.endswith("_yuan"):
                for name, v in _amount_views(np.nan_to_num(x)):
                    yield col.name, name, v, False
        else:
            yield col.name, "value", s.to_numpy(dtype=object), True
    if t.name == "contracts":
        for column, name, v in _contract_views(df, tables):
            yield column, name, v, False


def labelled(tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame]
             ) -> dict[str, Labelled]:
    """Each table with the truth it is scored against."""
    c = tables["contracts"]
    tc = truth["contracts"].set_index("contract_id").reindex(c["contract_id"])
    irregular = tc["is_irregular"].to_numpy(dtype=bool)
    unit = np.where(irregular, "e" + tc["event_id"].astype(str).to_numpy(),
                    "c" + c["contract_id"].astype(str).to_numpy())
    ent = truth["entities"]
    dishonest = dict(zip(zip(ent["entity_kind"], ent["entity_id"], strict=True),
                         ent["dishonest"], strict=True))

    def of(kind: str, ids: pd.Series) -> np.ndarray:
        return np.array([bool(dishonest.get((kind, i), False)) for i in ids], dtype=bool)

    inst, brk = tables["institutions"], tables["brokers"]
    rep, rec = tables["institution_reports"], tables["conduct_records"]
    rec_label = np.array([bool(dishonest.get(k, False))
                          for k in zip(rec["subject_kind"], rec["subject_id"], strict=True)])
    return {
        "contracts": Labelled(c, irregular, unit),
        "institutions": Labelled(inst, of("institution", inst["institution_id"]),
                                 inst["institution_id"].to_numpy()),
        "brokers": Labelled(brk, of("broker", brk["broker_id"]), brk["broker_id"].to_numpy()),
        "institution_reports": Labelled(rep, of("institution", rep["institution_id"]),
                                        rep["institution_id"].to_numpy()),
        "conduct_records": Labelled(rec, rec_label, rec["subject_id"].to_numpy()),
    }


def _tolerance(label: np.ndarray, unit: np.ndarray) -> tuple[float, int, int]:
    """BAND, or three standard errors of a null AUC over the distinct units if wider."""
    n1 = len(np.unique(unit[label]))
    n0 = len(np.unique(unit[~label]))
    if n1 == 0 or n0 == 0:
        return 0.5, n1, n0
    se = np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    return max(BAND, 3 * float(se)), n1, n0


def _encoded_auc(values: np.ndarray, lab: Labelled) -> tuple[float, float]:
    """AUC of the level-rate encoding and its noise; on a small table, against shuffles.

    Out-of-fold encoding of many levels over a few dozen rows has a bias and a spread of its
    own; on a small table the mean over shuffled labels is taken off and three of their
    standard deviations join the tolerance, so only what the column says is judged.
    """
    raw = auc(oof_rate(values, lab.label, lab.unit), lab.label)
    if len(values) >= _SMALL_TABLE:
        return raw, 0.0
    rng = np.random.default_rng(1)
    null = [auc(oof_rate(values, y, lab.unit), y)
            for y in (rng.permutation(lab.label) for _ in range(_SHUFFLES))]
    return raw - float(np.mean(null)) + 0.5, 3 * float(np.std(null))


def column_aucs(tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame]
                ) -> list[ColumnAuc]:
    """Every view of every column of every table, with its AUC against the truth."""
    out: list[ColumnAuc] = []
    for name, lab in labelled(tables, truth).items():
        tol, n1, n0 = _tolerance(lab.label, lab.unit)
        for column, derived, values, categorical in views(TABLES[name], lab.frame, tables):
            value, noise = _encoded_auc(values, lab) if categorical else (
                auc(values, lab.label), 0.0)
            out.append(ColumnAuc(name, column, derived, value, n1, n0, max(tol, noise),
                                 declared(name, column, derived)))
    return out


def offending(results: list[ColumnAuc]) -> list[ColumnAuc]:
    """The undeclared views outside their band, worst first."""
    bad = [r for r in results if not r.ok]
    return sorted(bad, key=lambda r: -abs(r.auc - 0.5))


def worst(results: list[ColumnAuc], n: int = 15) -> list[ColumnAuc]:
    """The ``n`` undeclared views furthest from 0.5, whether they pass or not."""
    return sorted((r for r in results if not r.declared), key=lambda r: -abs(r.auc - 0.5))[:n]
