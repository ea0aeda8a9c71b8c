"""The indicator values of one assessment year, point-in-time, from the curated tables.

An assessment of year ``Y`` is made with what was known on ``Y-12-31``: the latest annual report
submitted by then (for ``Y-1``, or ``Y`` if already in; an older one is too stale to count and
the report indicators are missing), contracts registered in the indicator's window ending with
``Y`` with the status they had on that day (a later audit cannot reach back), conduct records
confirmed by then, and the latest credit score dated by then. So re-running a past year on a
store that has since grown gives the same values. A value that cannot be known is NaN; what
that costs is the indicator's ``missing`` policy, applied in :mod:`models.assessment.ranking`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.assessment.config import MEASURES, AssessmentConfig, Indicator

TABLES = ("institutions", "contracts", "institution_reports", "conduct_records")
INVALID = ("revoked", "false_found")  # contracts that do not count as facilitated business
OVER_REPORTING_CAP = 1000.0  # percent: a report of business the register never saw
INFO = ("name", "institution_type", "region", "tier", "report_year")


class AssessmentDataError(ValueError):
    """The tables cannot be assessed (a table or column is missing); one line."""


@dataclass(frozen=True)
class YearData:
    """What the measures read, cut at the year's end and indexed by the assessed ids."""

    ids: pd.Index
    year: int
    end: pd.Timestamp
    report: pd.DataFrame  # the report counted, one row per id (NaN: none)
    contracts: pd.DataFrame  # facilitated contracts: institution_id, reg, state, amounts
    conduct: pd.DataFrame  # institution conduct records confirmed by ``end``
    points: pd.Series  # the latest credit score points by ``end`` (NaN: none)

    def window_start(self, years: int) -> pd.Timestamp:
        return pd.Timestamp(self.year - years + 1, 1, 1)

    def facilitated(self, ind: Indicator, valid_only: bool = True) -> pd.DataFrame:
        c = self.contracts
        c = c[(c["reg"] >= self.window_start(ind.window_years)) & (c["reg"] <= self.end)]
        return c[~c["state"].isin(INVALID)] if valid_only else c


def year_end(year: int) -> pd.Timestamp:
    return pd.Timestamp(year, 12, 31)


def compute_indicators(config: AssessmentConfig, tables: Mapping[str, pd.DataFrame],
                       scores: pd.DataFrame, year: int, exited: Collection[str] = ()
                       ) -> pd.DataFrame:
    """One row per institution assessed in ``year`` (index ``institution_id``): its name, type,
    region, region tier, the report year read, and one column per indicator code.

    Assessed: founded by January 1st of the year (a whole year to show), and not exited by the
    year's end, in the register or by an earlier assessment decision (``exited``). ``scores``:
    the stored institution scores (``entity_id``, ``as_of``, ``points``).
    """
    missing = [t for t in TABLES if t not in tables]
    if missing:
        raise AssessmentDataError(f"table {missing[0]} is missing: the assessment reads "
                                  f"{', '.join(TABLES)} / 缺少数据表")
    data = year_data(tables, scores, year, exited)
    out = institutions_at(tables["institutions"], data.ids, config)
    out["report_year"] = data.report["report_year"].astype("Int64")
    for ind in config.indicators:
        out[ind.code] = MEASURE[ind.measure](data, ind).reindex(data.ids).astype("float64")
    return out


def institutions_at(institutions: pd.DataFrame, ids: pd.Index, config: AssessmentConfig
                    ) -> pd.DataFrame:
    inst = institutions.set_index(institutions["institution_id"].astype("str")).reindex(ids)
    out = pd.DataFrame({"name": inst["name"].astype("str"),
                        "institution_type": inst["institution_type"].astype("str"),
                        "region": inst["region"].astype("str")}, index=ids)
    out["tier"] = [config.tier_of(r) for r in out["region"]]
    return out


def year_data(tables: Mapping[str, pd.DataFrame], scores: pd.DataFrame, year: int,
              exited: Collection[str] = ()) -> YearData:
    end = year_end(year)
    inst = tables["institutions"]
    ids_all = inst["institution_id"].astype("str")
    gone = (inst["status"].astype("str") == "exited") & (_dates(inst["status_date"]) <= end)
    keep = (_dates(inst["founded_date"]) <= pd.Timestamp(year, 1, 1)) & ~gone & ~ids_all.isin(
        set(exited))
    ids = pd.Index(sorted(ids_all[keep]), name="institution_id")
    return YearData(ids, year, end, _report(tables["institution_reports"], ids, year, end),
                    _contracts(tables["contracts"], ids, end),
                    _conduct(tables["conduct_records"], end), _points(scores, ids, end))


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce")


def _report(reports: pd.DataFrame, ids: pd.Index, year: int, end: pd.Timestamp
            ) -> pd.DataFrame:
    r = reports[(_dates(reports["submitted_date"]) <= end) & (reports["report_year"] >= year - 1)]
    r = r.assign(institution_id=r["institution_id"].astype("str"),
                 submitted=_dates(r["submitted_date"]))
    r = r.sort_values(["institution_id", "report_year", "submitted"])
    return r.drop_duplicates("institution_id", keep="last").set_index("institution_id"
                                                                      ).reindex(ids)


def _contracts(contracts: pd.DataFrame, ids: pd.Index, end: pd.Timestamp) -> pd.DataFrame:
    c = contracts[contracts["institution_id"].notna()]
    c = c[c["institution_id"].astype("str").isin(ids)]
    reg = _dates(c["registered_date"])
    changed = _dates(c["status_date"])
    known = changed.isna() | (changed <= end)  # a status decided later is not known yet
    state = c["status"].astype("str").where(known, "registered")
    return pd.DataFrame({"institution_id": c["institution_id"].astype("str").to_numpy(),
                         "reg": reg.to_numpy(), "state": state.to_numpy(),
                         "amount": c["amount_yuan"].to_numpy(dtype="float64"),
                         "tech": c["tech_amount_yuan"].to_numpy(dtype="float64")})


def _conduct(conduct: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    c = conduct[(conduct["subject_kind"] == "institution")
                & (_dates(conduct["confirmed_date"]) <= end)]
    return pd.DataFrame({"institution_id": c["subject_id"].astype("str").to_numpy(),
                         "confirmed": _dates(c["confirmed_date"]).to_numpy()})


def _points(scores: pd.DataFrame, ids: pd.Index, end: pd.Timestamp) -> pd.Series:
    if not len(scores):
        return pd.Series(np.nan, index=ids)
    s = scores[_dates(scores["as_of"]) <= end].assign(entity_id=scores["entity_id"].astype("str"))
    s = s.sort_values(["entity_id", "as_of"]).drop_duplicates("entity_id", keep="last")
    return s.set_index("entity_id")["points"].reindex(ids)


def _count(ids: pd.Index, keys: pd.Series) -> pd.Series:
    return keys.value_counts().reindex(ids, fill_value=0).astype("float64")


def _staff(d: YearData, _: Indicator) -> pd.Series:
    return d.report["staff"]


def _trained_share(d: YearData, _: Indicator) -> pd.Series:
    staff = d.report["staff"].astype("float64")
    return (100 * d.report["trained_staff"] / staff.where(staff > 0)).round(4)


def _contracts_facilitated(d: YearData, ind: Indicator) -> pd.Series:
    return _count(d.ids, d.facilitated(ind)["institution_id"])


def _tech_amount(d: YearData, ind: Indicator) -> pd.Series:
    c = d.facilitated(ind)
    return (c.groupby("institution_id")["tech"].sum() / 1e4).reindex(d.ids, fill_value=0.0)


def _clients(d: YearData, _: Indicator) -> pd.Series:
    return d.report["clients_served"]


def _revenue(d: YearData, _: Indicator) -> pd.Series:
    return d.report["service_revenue_yuan"] / 1e4


def _over_reporting(d: YearData, _: Indicator) -> pd.Series:
    """The report's amount against the register's for the same (report) year."""
    c = d.contracts[~d.contracts["state"].isin(INVALID)]
    by_year = c.groupby([c["institution_id"], c["reg"].dt.year])["amount"].sum()
    years = d.report["report_year"]
    registered = pd.Series([by_year.get((i, int(y)), 0.0) if pd.notna(y) else np.nan
                            for i, y in zip(d.ids, years, strict=True)], index=d.ids)
    reported = d.report["amount_reported_yuan"].astype("float64")
    ratio = (reported / registered.where(registered > 0) - 1) * 100
    ratio = ratio.where(registered > 0, np.where(reported > 0, OVER_REPORTING_CAP, 0.0))
    return ratio.clip(lower=0, upper=OVER_REPORTING_CAP).where(years.notna()).round(4)


def _complaints(d: YearData, _: Indicator) -> pd.Series:
    clients = d.report["clients_served"].astype("float64").clip(lower=1)
    return (100 * d.report["complaints"] / clients).round(4)


def _conduct_records(d: YearData, ind: Indicator) -> pd.Series:
    c = d.conduct[d.conduct["confirmed"] >= d.window_start(ind.window_years)]
    return _count(d.ids, c["institution_id"])


def _dishonest_share(d: YearData, ind: Indicator) -> pd.Series:
    c = d.facilitated(ind, valid_only=False)
    share = (c["state"] == "false_found").groupby(c["institution_id"]).mean() * 100
    return share.reindex(d.ids).round(4)


def _credit_points(d: YearData, _: Indicator) -> pd.Series:
    return d.points


MEASURE: dict[str, Callable[[YearData, Indicator], pd.Series]] = {
    "staff": _staff, "trained_share": _trained_share,
    "contracts_facilitated": _contracts_facilitated, "tech_amount_facilitated": _tech_amount,
    "clients_served": _clients, "service_revenue": _revenue, "over_reporting": _over_reporting,
    "complaints_per_100_clients": _complaints, "conduct_records": _conduct_records,
    "dishonest_contract_share": _dishonest_share, "credit_points": _credit_points,
}
assert set(MEASURE) == set(MEASURES)  # the loader's list and the code agree
