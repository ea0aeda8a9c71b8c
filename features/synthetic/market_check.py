"""Generated versus published figures, with the tolerance each must meet.

The same rows feed ``techcredit generate --check``, the calibration tests and the table in
``docs/data-standard.md``, so a market that drifts from the published figures fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.synthetic.published import BROKERS_2020, NATIONAL_INSTITUTIONS, YI, year_target


@dataclass(frozen=True)
class Row:
    figure: str
    published: float
    generated: float
    tolerance: str  # "5%" (relative) or "3pt" (absolute, in percentage points)
    source: str

    @property
    def ok(self) -> bool:
        if self.tolerance.endswith("pt"):
            return abs(self.generated - self.published) <= float(self.tolerance[:-2])
        if self.tolerance.startswith(">="):
            return self.generated >= self.published * float(self.tolerance[2:])
        # a figure exactly on the tolerance passes: 105 / 100 - 1 is 0.050000000000000044
        limit = float(self.tolerance[:-1]) / 100
        return abs(self.generated / self.published - 1) <= limit + 1e-12


def calibration_table(tables: dict[str, pd.DataFrame], scale: float) -> list[Row]:
    """Compare a market's tables with the published figures scaled to ``scale``."""
    c = tables["contracts"]
    year = c["registered_date"].dt.year.to_numpy()
    amount = c["amount_yuan"].to_numpy()
    kind = c["seller_kind"].to_numpy()
    rows: list[Row] = []
    for y in np.unique(year):
        t = year_target(int(y), scale)
        src = "published" if t.published else "MOST annual total (interpolation)"
        sel = year == y
        n, amt = sel.sum(), amount[sel].sum()
        rows += [
            Row(f"{y} contracts", t.contracts, float(n), "5%", src),
            Row(f"{y} amount (亿元)", t.amount_yuan / YI, amt / YI, "5%", src),
            Row(f"{y} average (万元)", t.avg_amount_yuan / 1e4, amt / n / 1e4, "10%", src),
        ]
        ent_share = amount[sel & (kind == "enterprise")].sum() / amt * 100
        rows.append(Row(f"{y} enterprise share of amount sold (%)",
                        t.enterprise_amount_share * 100, ent_share, "3pt",
                        "published" if y in (2015, 2020) else "interpolated"))
        if y in (2015, 2020):
            acad = sel & np.isin(kind, ["university", "research_institute"])
            rows += [
                Row(f"{y} university+institute contracts", t.contracts * t.academic_count_share,
                    float(acad.sum()), "5%", "published"),
                Row(f"{y} university+institute amount (亿元)",
                    t.amount_yuan * t.academic_amount_share / YI, amount[acad].sum() / YI, "5%",
                    "published"),
            ]
    inst, brk = tables["institutions"], tables["brokers"]
    for y, target in NATIONAL_INSTITUTIONS.items():
        if year.min() <= y <= year.max():
            day = pd.Timestamp(f"{y}-12-31")
            active = (inst["designated_date"] <= day) & ~(
                (inst["status"] == "exited") & (inst["status_date"] <= day))
            rows.append(Row(f"{y} national institutions", target * scale, float(active.sum()),
                            "5%", "published"))
    if year.max() >= 2020:
        n_brk = (brk["certified_date"] <= pd.Timestamp("2020-12-31")).sum()
        rows.append(Row("2020 trained brokers", BROKERS_2020 * scale, float(n_brk), ">=1.0",
                        "published (over 10,000)"))
    return rows


def shape_figures(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Shape checks that have no single published number: tails, skews and peaks."""
    c = tables["contracts"]
    amount = c["amount_yuan"]
    amt_by_region = c.groupby("seller_region")["amount_yuan"].sum().sort_values(ascending=False)
    return {
        "mean / median amount": float(amount.mean() / amount.median()),
        "December share of registrations (%)": float(
            (c["registered_date"].dt.month == 12).mean() * 100
        ),
        "top-5 provinces' share of amount (%)": float(
            amt_by_region.head(5).sum() / amount.sum() * 100
        ),
        "largest technology field's share of contracts (%)": float(
            c["tech_field"].value_counts(normalize=True).iloc[0] * 100
        ),
    }


def format_table(rows: list[Row], shapes: dict[str, float] | None = None) -> str:
    lines = [f"{'figure':<44} {'published':>12} {'generated':>12} {'tol':>6}  ok  source"]
    for r in rows:
        lines.append(f"{r.figure:<44} {r.published:>12,.1f} {r.generated:>12,.1f} "
                     f"{r.tolerance:>6}  {'✓' if r.ok else '✗'}   {r.source}")
    for name, value in (shapes or {}).items():
        lines.append(f"{name:<44} {'':>12} {value:>12,.1f}")
    return "\n".join(lines)
