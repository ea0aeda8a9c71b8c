"""The five standard tables prepared once for point-in-time feature building.

Dates become integer days since 1970 (``NEVER`` for a missing date), ids become integer
codes, and contracts are sorted in registration order ``(registered_date, contract_id)``,
the order in which the real-time check sees them. Every feature function then works on
numpy arrays and can cut "known at day d" with a comparison instead of a date parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.point_in_time.versions import attribute_versions
from features.standard.enums import CONTRACT_TYPE, PARTY_KIND, REGION, TECH_FIELD

NEVER = np.int64(2**40)  # day number of a date that has not happened
# attributes an export restates as of its date: read as they held at the as-of date
INSTITUTION_ATTRIBUTES = ("level", "status", "status_date")
BROKER_ATTRIBUTES = ("training_hours", "cert_level", "institution_id")
BAD_STATUSES = ("revoked", "disputed", "false_found")
TYPE_CODES = {c: i for i, c in enumerate(CONTRACT_TYPE.codes)}
FIELD_CODES = {c: i for i, c in enumerate(TECH_FIELD.codes)}
REGION_CODES = {c: i for i, c in enumerate(REGION.codes)}
KIND_CODES = {c: i for i, c in enumerate(PARTY_KIND.codes)}
CONTRACT_CODES = {"contract_type": CONTRACT_TYPE.codes, "tech_field": TECH_FIELD.codes,
                  "seller_region": REGION.codes, "buyer_region": REGION.codes,
                  "seller_kind": PARTY_KIND.codes}


def days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Day numbers (int64) of a date column of any dtype; missing dates become ``NEVER``."""
    d = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    out = d.astype(np.int64)
    out[np.isnat(d)] = NEVER
    return out


def day_of(date: str | pd.Timestamp | np.datetime64) -> int:
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype(np.int64))


def month_of_days(d: np.ndarray) -> np.ndarray:
    """Calendar month (1-12) of day numbers."""
    return (d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) + 1


def year_of_days(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def codes_in(values: pd.Series, known: list[str] | pd.Index) -> np.ndarray:
    """Position of each value in ``known`` (-1 when absent or missing), vectorised in Arrow."""
    idx = pc.fill_null(pc.index_in(pa.array(values.astype("str")),
                                   value_set=pa.array(list(known), pa.string())), -1)
    if isinstance(idx, pa.ChunkedArray):
        idx = idx.combine_chunks()
    return np.asarray(idx, dtype=np.int64)


@dataclass
class History:
    """Prepared tables. ``parties`` codes sellers and buyers in one id space."""

    contracts: pd.DataFrame
    institutions: pd.DataFrame
    brokers: pd.DataFrame
    reports: pd.DataFrame
    conduct: pd.DataFrame
    party_ids: pd.Index
    institution_ids: pd.Index
    broker_ids: pd.Index
    # every version of the attributes that exports restate, with the day each began to hold
    institution_versions: pd.DataFrame
    broker_versions: pd.DataFrame
    office_ids: pd.Index

    @property
    def last_day(self) -> int:
        """The latest day any record was registered, reported, confirmed or changed."""
        c = self.contracts
        candidates = [c["reg"].max() if len(c) else 0, self.conduct["confirmed"].max() if len(
            self.conduct) else 0, self.reports["submitted"].max() if len(self.reports) else 0]
        status = c["status_day"][c["status_day"] < NEVER]
        if len(status):
            candidates.append(status.max())
        return int(max(candidates))


def first_status_day(versions: pd.DataFrame, statuses: tuple[str, ...]) -> pd.Series:
    """Per contract id, the earliest status date among its versions with one of ``statuses``."""
    hit = versions[versions["status"].isin(statuses) & versions["status_date"].notna()]
    return pd.Series(days(hit["status_date"]), index=hit["contract_id"].astype(str).to_numpy()
                     ).groupby(level=0).min()


def registration_order(contracts: pd.DataFrame, reg: np.ndarray) -> np.ndarray:
    """Row order by (registered_date, contract_id); no sort when the rows already are in it."""
    ids = contracts["contract_id"].astype("str")
    if bool(np.all(reg[1:] >= reg[:-1])) and ids.is_monotonic_increasing:
        return np.arange(len(reg))
    keys = pd.DataFrame({"r": reg, "i": ids.to_numpy()})
    return keys.sort_values(["r", "i"], kind="stable").index.to_numpy()


def prepare(tables: Mapping[str, pd.DataFrame] | History) -> History:
    """Prepare the standard tables (any date dtype) for
    :func:`features.point_in_time.build.build_features`.
    """
    if isinstance(tables, History):
        return tables
    raw = tables["contracts"]
    reg = days(raw["registered_date"])
    order = registration_order(raw, reg)
    raw = raw.iloc[order].reset_index(drop=True)
    reg = reg[order]
    parties, uniques = pd.factorize(
        pd.concat([raw["seller_id"], raw["buyer_id"]], ignore_index=True)
    )
    party_ids = pd.Index(np.asarray(uniques, dtype=object).astype(str))
    offices, office_uniques = pd.factorize(raw["office_id"].astype("str"))
    inst = tables["institutions"]
    inst_ids = pd.Index(inst["institution_id"].astype(str))
    brk = tables["brokers"]
    brk_ids = pd.Index(brk["broker_id"].astype(str))
    n = len(raw)
    status = codes_in(raw["status"], list(BAD_STATUSES))
    status_day = days(raw["status_date"])
    bad = status >= 0
    contracts = pd.DataFrame({
        "contract_id": raw["contract_id"].astype("str").array,
        "reg": reg,
        "signed": days(raw["signed_date"]),
        "ctype": codes_in(raw["contract_type"], CONTRACT_CODES["contract_type"]),
        "field": codes_in(raw["tech_field"], CONTRACT_CODES["tech_field"]),
        "seller": parties[:n].astype(np.int64),
        "buyer": parties[n:].astype(np.int64),
        "seller_region": codes_in(raw["seller_region"], CONTRACT_CODES["seller_region"]),
        "buyer_region": codes_in(raw["buyer_region"], CONTRACT_CODES["buyer_region"]),
        "seller_kind": codes_in(raw["seller_kind"], CONTRACT_CODES["seller_kind"]),
        "office": offices.astype(np.int64),
        "inst": codes_in(raw["institution_id"], inst_ids),
        "broker": codes_in(raw["broker_id"], brk_ids),
        "amount": raw["amount_yuan"].to_numpy(np.float64),
        "tech_amount": raw["tech_amount_yuan"].to_numpy(np.float64),
        "status_day": status_day,
        # the day a contract becomes known as revoked/disputed/false, NEVER otherwise
        "bad_day": np.where(bad, status_day, NEVER),
        "false_day": np.where(status == BAD_STATUSES.index("false_found"), status_day, NEVER),
    })
    earlier = tables.get("contracts_history")
    if earlier is not None and len(earlier):  # a status held before a later version replaced it
        for column, statuses in (("bad_day", BAD_STATUSES), ("false_day", ("false_found",))):
            first = first_status_day(earlier, statuses)
            pos = pd.Index(contracts["contract_id"]).get_indexer(first.index)
            keep = pos >= 0
            col = contracts[column].to_numpy().copy()
            col[pos[keep]] = np.minimum(col[pos[keep]], first.to_numpy()[keep])
            contracts[column] = col
    institutions = pd.DataFrame({
        "id": inst_ids,
        "founded": days(inst["founded_date"]),
        "designated": days(inst["designated_date"]),
        "level": inst["level"].astype(str).to_numpy(),
        "status": inst["status"].astype(str).to_numpy(),
        "status_day": days(inst["status_date"]),
    })
    brokers = pd.DataFrame({
        "id": brk_ids,
        "certified": days(brk["certified_date"]),
        "training_hours": brk["training_hours"].to_numpy(np.float64),
        "cert_level": brk["cert_level"].astype(str).to_numpy(),
        "affiliated": brk["institution_id"].notna().to_numpy(),
    })
    institution_versions = attribute_versions(
        inst, tables.get("institutions_history"), "institution_id", "founded_date",
        "status_date", list(INSTITUTION_ATTRIBUTES))
    institution_versions["code"] = inst_ids.get_indexer(institution_versions["institution_id"])
    broker_versions = attribute_versions(
        brk, tables.get("brokers_history"), "broker_id", "certified_date", None,
        list(BROKER_ATTRIBUTES))
    broker_versions["code"] = brk_ids.get_indexer(broker_versions["broker_id"])
    rep = tables["institution_reports"]
    reports = pd.DataFrame({
        "inst": inst_ids.get_indexer(rep["institution_id"]).astype(np.int64),
        "year": rep["report_year"].to_numpy(np.int64),
        "submitted": days(rep["submitted_date"]),
        **{c: rep[c].to_numpy(np.float64) for c in (
            "staff", "trained_staff", "contracts_reported", "amount_reported_yuan",
            "service_revenue_yuan", "clients_served", "complaints")},
    })
    cr = tables["conduct_records"]
    kind = cr["subject_kind"].astype(str).to_numpy()
    subject = cr["subject_id"]
    conduct = pd.DataFrame({
        "kind": kind,
        "subject": np.select(
            [kind == "institution", kind == "broker", kind == "party"],
            [inst_ids.get_indexer(subject), brk_ids.get_indexer(subject),
             party_ids.get_indexer(subject)], -1).astype(np.int64),
        "serious": cr["severity"].isin(["serious", "severe"]).to_numpy(),
        "confirmed": days(cr["confirmed_date"]),
    })
    return History(contracts, institutions, brokers, reports, conduct, party_ids, inst_ids,
                   brk_ids, institution_versions, broker_versions,
                   pd.Index(np.asarray(office_uniques, dtype=object).astype(str)))
