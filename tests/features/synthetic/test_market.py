"""The synthetic market: calibration, determinism, shape, fraud ground truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.standard.tables import TABLES
from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN
from features.synthetic.market import Market, generate_market, write_market
from features.synthetic.market_check import calibration_table, shape_figures
from features.synthetic.patterns import PATTERNS
from features.synthetic.spec import MarketSpec


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def decade() -> Market:
    return generate_market(MarketSpec(first_year=2011, last_year=2020, scale=0.05, seed=11))


def test_decade_meets_every_published_figure(decade: Market) -> None:
    rows = calibration_table(decade.tables, 0.05)
    failed = [(r.figure, r.published, r.generated) for r in rows if not r.ok]
    assert failed == []
    figures = {r.figure for r in rows}
    assert {"2015 enterprise share of amount sold (%)", "2020 university+institute amount (亿元)",
            "2015 national institutions", "2020 national institutions",
            "2020 trained brokers"} <= figures
    assert {f"{y} contracts" for y in range(2011, 2021)} <= figures


def test_another_seed_gives_another_market_with_the_same_calibration(decade: Market) -> None:
    other = generate_market(MarketSpec(first_year=2011, last_year=2020, scale=0.05, seed=12))
    assert all(r.ok for r in calibration_table(other.tables, 0.05))
    a, b = decade.tables["contracts"], other.tables["contracts"]
    assert not np.array_equal(
        a["amount_yuan"].to_numpy()[:1000], b["amount_yuan"].to_numpy()[:1000]
    )


def test_same_seed_gives_byte_identical_files(small_market: Market, tmp_path: Path) -> None:
    again = generate_market(small_market.spec)
    write_market(small_market, tmp_path / "a")
    write_market(again, tmp_path / "b")
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db
    assert set(da) == {f"{t}.parquet" for t in TABLES} | {"_truth/contracts.parquet",
                                                          "_truth/entities.parquet"}


def test_amounts_are_heavy_tailed_and_registrations_peak_in_december(decade: Market) -> None:
    shapes = shape_figures(decade.tables)
    assert shapes["mean / median amount"] > 4
    assert shapes["December share of registrations (%)"] > 15
    assert shapes["top-5 provinces' share of amount (%)"] > 50
    c = decade.tables["contracts"]
    top = c.groupby("seller_region")["amount_yuan"].sum().idxmax()
    assert top == "110000"  # Beijing leads the market, as in the register


def test_truth_is_kept_apart_from_the_tables(small_market: Market, small_market_dir: Path) -> None:
    for df in small_market.tables.values():
        assert not {"is_irregular", "integrity", "dishonest", "pattern"} & set(df.columns)
    truth = pd.read_parquet(small_market_dir / "_truth" / "contracts.parquet")
    assert list(truth["contract_id"]) == list(small_market.tables["contracts"]["contract_id"])
    assert 0.005 < truth["is_irregular"].mean() < 0.06


def test_every_fraud_pattern_is_planted_as_documented(small_market: Market) -> None:
    c = small_market.tables["contracts"].merge(small_market.truth["contracts"], on="contract_id")
    assert set(c.loc[c["is_irregular"], "pattern"]) == set(PATTERNS)
    thr = c[c["pattern"] == "threshold"]["amount_yuan"].to_numpy()
    t = np.asarray(SUBSIDY_THRESHOLDS_YUAN)
    near = ((thr[:, None] >= t) & (thr[:, None] <= t * (1 + JUST_ABOVE))).any(axis=1)
    assert near.all()
    split = c[c["pattern"] == "split"].groupby("event_id")
    assert (split["seller_id"].nunique() == 1).all() and (split["buyer_id"].nunique() == 1).all()
    assert (split["registered_date"].nunique() == 1).all() and (split.size() >= 3).all()
    ring = c[c["pattern"] == "circular"].sort_values(["event_id", "registered_date"])
    for _, g in list(ring.groupby("event_id"))[:20]:
        assert set(g["seller_id"]) == set(g["buyer_id"])  # A→B→C→A closes the ring
    spikes = c[c["pattern"] == "broker_spike"].groupby("event_id")
    assert (spikes["broker_id"].nunique() == 1).all() and (spikes.size() >= 8).all()
    span = spikes["registered_date"].max() - spikes["registered_date"].min()
    assert (span <= pd.Timedelta(days=27)).all()
    cycles = c[c["pattern"] == "long_cycle"].groupby("event_id")
    assert cycles.size().between(4, 5).all()
    for _, g in list(cycles)[:20]:
        assert set(g["seller_id"]) == set(g["buyer_id"])  # the long chain closes
    ghosts = c[c["pattern"] == "phantom_buyer"]
    assert (ghosts.groupby("event_id")["seller_id"].nunique() == 1).all()
    elsewhere = c.loc[c["pattern"] != "phantom_buyer", ["seller_id", "buyer_id"]].stack()
    assert not ghosts["buyer_id"].isin(set(elsewhere)).any()
    assert ghosts["buyer_id"].is_unique


def test_detection_is_incomplete_and_later_than_the_contract(small_market: Market) -> None:
    c = small_market.tables["contracts"].merge(small_market.truth["contracts"], on="contract_id")
    irr = c[c["is_irregular"]]
    found = irr["status"] == "false_found"
    assert 0.1 < found.mean() < 0.6
    assert (irr.loc[found, "status_date"] > irr.loc[found, "registered_date"]).all()
    assert (c.loc[~c["is_irregular"], "status"] != "false_found").all()
    conduct = small_market.tables["conduct_records"]
    end = pd.Timestamp("2020-12-31")
    assert (conduct["confirmed_date"] <= end).all()
    assert (conduct["occurred_date"] <= conduct["confirmed_date"]).all()


def test_dishonest_institutions_collect_more_conduct_records(small_market: Market) -> None:
    truth = small_market.truth["entities"]
    inst = truth[truth["entity_kind"] == "institution"].set_index("entity_id")
    records = small_market.tables["conduct_records"]
    n = records[records["subject_kind"] == "institution"].groupby("subject_id").size()
    per = inst.assign(n=n.reindex(inst.index).fillna(0)).groupby("dishonest")["n"].mean()
    assert per[True] > 3 * per[False]


def test_misreporting_institutions_report_more_than_the_registry_shows(
    small_market: Market,
) -> None:
    rep = small_market.tables["institution_reports"]
    c = small_market.tables["contracts"]
    reg = c.groupby([c["institution_id"], c["registered_date"].dt.year]).size()
    reg.index.names = ["institution_id", "report_year"]
    joined = rep.set_index(["institution_id", "report_year"]).join(reg.rename("registry"))
    truth = small_market.truth["entities"].set_index("entity_id")
    at = joined.index.get_level_values(0)
    joined["dishonest"] = truth["dishonest"].reindex(at).to_numpy()
    # Dishonest institutions misreport from their onset year on, as documented.
    past_onset = joined.index.get_level_values(1) >= truth["onset_year"].reindex(at).to_numpy()
    ratio = (joined["contracts_reported"] / joined["registry"]).replace(np.inf, np.nan)
    assert ratio[~joined["dishonest"]].median() == pytest.approx(1.0, abs=0.06)
    assert ratio[joined["dishonest"] & past_onset].median() > 1.2


def test_foreign_keys_resolve(small_market: Market) -> None:
    t = small_market.tables
    inst, brk = set(t["institutions"]["institution_id"]), set(t["brokers"]["broker_id"])
    c = t["contracts"]
    assert set(c["institution_id"].dropna()) <= inst
    assert set(c["broker_id"].dropna()) <= brk
    assert set(t["brokers"]["institution_id"].dropna()) <= inst
    assert set(t["institution_reports"]["institution_id"]) <= inst
    assert set(t["conduct_records"]["related_contract_id"].dropna()) <= set(c["contract_id"])


def test_an_inverted_year_range_is_refused() -> None:
    with pytest.raises(ValueError, match="after last year"):
        generate_market(MarketSpec(first_year=2020, last_year=2019))


def test_csv_exports_in_gb18030_with_chinese_headers(small_market: Market, tmp_path: Path) -> None:
    paths = write_market(small_market, tmp_path, fmt="csv", encoding="gb18030", headers="zh")
    raw = paths["contracts"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    back = pd.read_csv(paths["contracts"], encoding="gb18030", dtype=str)
    assert list(back.columns[:3]) == ["合同登记编号", "签订日期", "登记日期"]
    assert len(back) == len(small_market.tables["contracts"])
    first = small_market.tables["contracts"]["registered_date"].iloc[0]
    assert back["登记日期"].iloc[0] == first.strftime("%Y-%m-%d")


def test_unknown_export_format_is_refused(small_market: Market, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        write_market(small_market, tmp_path, fmt="xlsx")


def test_every_generated_row_passes_the_standards_own_checks(small_market: Market) -> None:
    from datetime import date

    from features.ingest.parsing import parse_frame
    from features.ingest.validation import checks, run_masks
    from features.standard.tables import LOAD_ORDER, table

    keys = {f"{n}.{table(n).key}": pd.Index(small_market.tables[n][table(n).key])
            for n in LOAD_ORDER}
    for name in LOAD_ORDER:
        t = table(name)
        parsed = parse_frame(t, small_market.tables[name])
        assert not any(m.any() for m in parsed.failures.values()), name
        cks = checks(t, date(2021, 1, 1), keys)
        if name == "contracts":  # the foreign keys are really checked
            assert {"foreign key:institution_id", "foreign key:broker_id"} <= {c.id for c in cks}
        failing = {
            c.id: int(m.sum())
            for c, m in zip(cks, run_masks(parsed.frame, cks).values(), strict=True)
            if m.any()
        }
        assert failing == {}, name
