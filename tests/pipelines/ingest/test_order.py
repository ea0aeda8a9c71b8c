"""Ingest never loses or reverts a record: quarantined rows come back once their references
resolve, a stale export never overwrites a newer record, a final status is left only with a
stated basis, and count in = loaded + quarantined holds across every run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from features.settings import Settings
from pipelines.ingest.gx_worker import GXWorker
from pipelines.store import curated as store
from pipelines.store.quarantine import read_all, reject
from tests.pipelines.ingest_support import run_ingest


def _write(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)
    return path


def _counts_add_up(s: Settings) -> None:
    """Every row read is loaded or in the queue, over all runs (from the stored manifests)."""
    snap = store.snapshot(s)
    queue = read_all(s)
    for name in ("institutions", "brokers", "contracts"):
        files = store.read_table_manifest(snap.version(name))["loaded_files"]
        q = queue[queue["table"] == name]
        assert sum(f["quarantined"] for f in files.values()) == len(q), name
        assert sum(f["rows_read"] for f in files.values()) == (
            sum(f["loaded"] for f in files.values()) + len(q)
        ), name


def _found_false(market: dict[str, pd.DataFrame], n: int) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """``n`` contracts without institution or broker, and a version in which the first was
    found false on 2021-03-01."""
    con = market["contracts"]
    con = con[con["institution_id"].isna() & con["broker_id"].isna()].head(n)
    target = con["contract_id"].iloc[0]
    found = con.copy()
    found.loc[found["contract_id"] == target, ["status", "status_date"]] = [
        "false_found", pd.Timestamp("2021-03-01")]
    return con, target, found


def test_contracts_before_their_institutions_are_loaded_once_the_institutions_arrive(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    s = Settings(home=tmp_path / "home")
    con = market["contracts"]
    facilitated = con[con["institution_id"].notna()].head(40)
    first = run_ingest(s.home, [_write(facilitated, tmp_path / "a" / "contracts.parquet")],
                       gx_worker)
    (rep,) = first.result.files
    assert rep.quarantined == 40 and rep.loaded == 0  # no institution or broker known yet
    queued = read_all(s, "contracts")
    assert set(queued["state"]) == {"open"} and queued["replayable"].all()
    assert all("foreign key:institution_id" in r for r in queued["reason"])

    # the master data arrives in a later delivery: the same run replays the contracts
    second = run_ingest(
        s.home,
        [_write(market["institutions"], tmp_path / "b" / "institutions.parquet"),
         _write(market["brokers"], tmp_path / "b" / "brokers.parquet")],
        gx_worker,
    )
    assert second.result.tables["contracts"].replayed == 40
    assert second.result.replayed == 40
    stored = store.read_curated("contracts", s)
    assert sorted(stored["contract_id"]) == sorted(facilitated["contract_id"])
    queued = read_all(s, "contracts")
    assert set(queued["state"]) == {"released"}
    assert set(queued["loaded_run"]) == {second.run_id}
    lineage = store.snapshot(s).read_with_lineage("contracts")
    assert lineage["_source_file"].str.endswith("a/contracts.parquet").all()  # its own file
    _counts_add_up(s)

    # nothing left to replay: a run without files changes nothing
    third = run_ingest(s.home, [], gx_worker)
    assert third.result.replayed == 0 and store.current_manifest(s).run_id == second.run_id


def test_a_stale_export_never_reverts_a_contract_found_false(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    s = Settings(home=tmp_path / "home")
    con, target, found = _found_false(market, 5)
    stale = con.copy()  # an older export: the contract still registered
    stale.loc[stale["contract_id"] == target, ["status", "status_date"]] = ["registered", pd.NaT]
    run_ingest(s.home, [_write(found, tmp_path / "new" / "contracts.parquet")], gx_worker)

    later = run_ingest(s.home, [_write(stale, tmp_path / "old" / "contracts.parquet")], gx_worker)
    (rep,) = later.result.files
    assert rep.reasons == {"stale": 1} and rep.quarantined == 1 and rep.loaded == 4
    row = store.read_curated("contracts", s).set_index("contract_id").loc[target]
    assert row["status"] == "false_found"
    reason = read_all(s, "contracts").set_index("row_id")["reason"]
    (text,) = [r for r in reason if r.startswith("stale")]
    assert "status=registered" in text and "status=false_found" in text and target in text
    assert "status_date=2021-03-01" in text
    _counts_add_up(s)


def test_leaving_a_final_status_needs_a_stated_basis(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    s = Settings(home=tmp_path / "home")
    con, target, v1 = _found_false(market, 3)
    run_ingest(s.home, [_write(v1, tmp_path / "1" / "contracts.parquet")], gx_worker)
    newer = con.copy()  # newer, but silent about why the finding was withdrawn
    newer.loc[newer["contract_id"] == target, ["status", "status_date"]] = [
        "registered", pd.Timestamp("2021-06-01")]
    run = run_ingest(s.home, [_write(newer, tmp_path / "2" / "contracts.parquet")], gx_worker)
    assert run.result.files[0].reasons == {"irreversible": 1}
    assert store.read_curated("contracts", s).set_index("contract_id").loc[
        target, "status"] == "false_found"

    newer["status_basis"] = None
    newer.loc[newer["contract_id"] == target, "status_basis"] = "国科发〔2021〕12号 复核撤销"
    run = run_ingest(s.home, [_write(newer, tmp_path / "3" / "contracts.parquet")], gx_worker)
    assert run.result.tables["contracts"].updated == 1
    row = store.read_curated("contracts", s).set_index("contract_id").loc[target]
    assert row["status"] == "registered" and row["status_basis"].startswith("国科发")
    history = store.snapshot(s).history("contracts")
    assert history.loc[history["contract_id"] == target, "status"].tolist() == ["false_found"]


def test_equal_dates_are_ordered_by_export_time(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    """Brokers carry no status date: the later export wins, an earlier one is stale."""
    s = Settings(home=tmp_path / "home")
    inst, brk = market["institutions"], market["brokers"].head(3).copy()
    run_ingest(s.home, [_write(inst, tmp_path / "i" / "institutions.parquet")], gx_worker)
    noon = datetime(2026, 11, 1, 12, tzinfo=UTC)
    run_ingest(s.home, [_write(brk, tmp_path / "n" / "brokers.parquet")], gx_worker,
               exported_at=noon)
    morning = brk.assign(training_hours=brk["training_hours"] + 1)
    run = run_ingest(s.home, [_write(morning, tmp_path / "m" / "brokers.parquet")], gx_worker,
                     exported_at=datetime(2026, 11, 1, 8, tzinfo=UTC))
    assert run.result.files[0].reasons == {"stale": 3}
    evening = brk.assign(training_hours=brk["training_hours"] + 2)
    run = run_ingest(s.home, [_write(evening, tmp_path / "e" / "brokers.parquet")], gx_worker,
                     exported_at=datetime(2026, 11, 1, 20, tzinfo=UTC))
    assert run.result.tables["brokers"].updated == 3
    stored = store.read_curated("brokers", s).set_index("broker_id")
    assert (stored.loc[brk["broker_id"], "training_hours"].to_numpy()
            == brk["training_hours"].to_numpy() + 2).all()


def test_an_operator_rejects_a_row_for_good(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    s = Settings(home=tmp_path / "home")
    con = market["contracts"][market["contracts"]["institution_id"].notna()].head(2)
    run_ingest(s.home, [_write(con, tmp_path / "a" / "contracts.parquet")], gx_worker)
    first = read_all(s, "contracts")["row_id"].iloc[0]
    assert reject(s, [first], by="王审", note="duplicate of a corrected record") == 1
    run_ingest(s.home, [_write(market["institutions"], tmp_path / "b" / "institutions.parquet"),
                        _write(market["brokers"], tmp_path / "b" / "brokers.parquet")], gx_worker)
    queue = read_all(s, "contracts").set_index("row_id")
    assert queue.loc[first, "state"] == "rejected" and queue.loc[first, "state_by"] == "王审"
    assert (queue["state"] == "released").sum() == 1  # the other one was replayed
    assert len(store.read_curated("contracts", s)) == 1
    _counts_add_up(s)


def test_a_replayed_row_older_than_a_version_in_the_same_run_stays_quarantined(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    """C waits for its institution; the run that brings the institution also brings C found
    false. The queued (older) version is refused as stale, not loaded over the newer one."""
    s = Settings(home=tmp_path / "home")
    con = market["contracts"]
    waiting = con[con["institution_id"].notna() & con["broker_id"].isna()].head(1)
    (target,) = waiting["contract_id"]
    run_ingest(s.home, [_write(waiting, tmp_path / "a" / "contracts.parquet")], gx_worker)
    found = waiting.assign(status="false_found", status_date=pd.Timestamp("2021-03-01"))
    run = run_ingest(
        s.home,
        [_write(market["institutions"], tmp_path / "b" / "institutions.parquet"),
         _write(found, tmp_path / "b" / "contracts.parquet")],
        gx_worker,
    )
    files = {Path(f.path).name: f for f in run.result.files}
    assert files["contracts.parquet"].loaded == 1 and files["contracts.parquet"].reasons == {}
    assert run.result.tables["contracts"].refused == 1
    assert store.read_curated("contracts", s).set_index("contract_id").loc[
        target, "status"] == "false_found"
    (row,) = read_all(s, "contracts").itertuples()
    assert row.state == "open" and row.reason.startswith("stale") and not row.replayable
    assert row.source_file.endswith("a/contracts.parquet")
    _counts_add_up(s)


def _reports(market: dict[str, pd.DataFrame], tmp_path: Path, gx_worker: GXWorker
             ) -> tuple[Settings, pd.DataFrame]:
    """A store holding the institutions, and three annual reports to deliver."""
    s = Settings(home=tmp_path / "home")
    run_ingest(s.home, [_write(market["institutions"], tmp_path / "i" / "institutions.parquet")],
               gx_worker)
    return s, market["institution_reports"].head(3).reset_index(drop=True)


def test_a_correction_delivered_with_the_report_it_corrects_wins(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    """One delivery, two files: the reports and a correction of one. A correction dated like
    the report (same submitted_date, same export time) listed after it wins, and so does a
    later-dated correction listed before it; the report it corrects goes to history, nothing
    is quarantined as stale."""
    s, reports = _reports(market, tmp_path, gx_worker)
    target = reports["report_id"].iloc[0]
    same_day = reports.head(1).assign(staff=reports["staff"].iloc[0] + 5)
    run = run_ingest(s.home, [_write(reports, tmp_path / "d" / "institution_reports.parquet"),
                              _write(same_day, tmp_path / "d" / "institution_reports_fix.parquet")],
                     gx_worker)
    assert [f.quarantined for f in run.result.files] == [0, 0]
    assert run.result.quarantined == 0 and run.result.tables["institution_reports"].refused == 0
    assert run.result.tables["institution_reports"].superseded_in_run == 1
    stored = store.read_curated("institution_reports", s).set_index("report_id")
    assert stored.loc[target, "staff"] == same_day["staff"].iloc[0]
    history = store.snapshot(s).history("institution_reports")
    assert history.loc[history["report_id"] == target, "staff"].tolist() == [
        reports["staff"].iloc[0]]
    assert read_all(s, "institution_reports").empty

    s, reports = _reports(market, tmp_path / "later", gx_worker)
    later = reports.head(1).assign(staff=reports["staff"].iloc[0] + 7,
                                   submitted_date=reports["submitted_date"].iloc[0]
                                   + pd.Timedelta(days=30))
    run = run_ingest(s.home, [_write(later, tmp_path / "e" / "institution_reports_a_fix.parquet"),
                              _write(reports, tmp_path / "e" / "institution_reports_b.parquet")],
                     gx_worker)
    assert run.result.quarantined == 0 and run.result.tables["institution_reports"].refused == 0
    stored = store.read_curated("institution_reports", s).set_index("report_id")
    assert stored.loc[target, "staff"] == later["staff"].iloc[0]
    assert len(stored) == 3 and read_all(s, "institution_reports").empty
