"""Ingest and its Great Expectations worker: GX re-checks each file's masks in its own
process; a disagreement, a dead worker or a refused referenced table refuses files with a
message, never a traceback or a half-written store, and the same command loads them later.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from pipelines.ingest import run as ingest_run
from pipelines.ingest.gx_worker import GXWorker
from pipelines.ingest.run import IngestRun
from pipelines.store import curated as store
from pipelines.store.quarantine import read_all
from tests.pipelines.ingest_support import TODAY, parties, run_ingest


def _plant_mask_bug(monkeypatch: pytest.MonkeyPatch, first_id: str) -> None:
    """The masks of the institutions file starting with ``first_id`` call a present id missing."""
    real = ingest_run.run_masks

    def wrong(df: pd.DataFrame, cks: list) -> dict:
        masks = real(df, cks)
        if "institution_id" in df and df["institution_id"].iloc[0] == first_id and "name" in df:
            bug = masks["not null:institution_id"].copy()
            bug[0] = True
            masks["not null:institution_id"] = bug
        return masks

    monkeypatch.setattr(ingest_run, "run_masks", wrong)


def test_a_file_gx_disagrees_on_is_not_loaded_and_the_others_are(
    market: dict[str, pd.DataFrame],
    gx_worker: GXWorker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    market["institutions"].iloc[:4].to_parquet(src / "institutions_a.parquet")
    market["institutions"].iloc[4:].to_parquet(src / "institutions_b.parquet")
    _plant_mask_bug(monkeypatch, market["institutions"]["institution_id"].iloc[4])
    run = run_ingest(
        tmp_path / "home",
        [src / "institutions_a.parquet", src / "institutions_b.parquet"],
        gx_worker,
    )
    a, b = run.result.files
    assert a.fault is None and a.loaded == 4
    assert "validation engines disagree" in b.fault and "not null:institution_id" in b.fault
    assert b.loaded == b.quarantined == 0
    queued = read_all(Settings(home=tmp_path / "home"), "institutions")
    assert b.sha256 not in set(queued["source_sha256"])  # a refused file queues nothing
    cur = store.read_curated("institutions", Settings(home=tmp_path / "home"))
    assert sorted(cur["institution_id"]) == sorted(
        market["institutions"]["institution_id"].iloc[:4]
    )
    assert not list(
        store.versions_dir("institutions", Settings(home=tmp_path / "home")).glob("*.staging")
    )


def test_files_checked_against_refused_records_are_refused_and_load_next_time(
    market: dict[str, pd.DataFrame],
    gx_worker: GXWorker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src, home = tmp_path / "src", tmp_path / "home"
    src.mkdir()
    inst = market["institutions"]
    inst.iloc[:4].to_parquet(src / "institutions_a.parquet")
    inst.iloc[4:].to_parquet(src / "institutions_b.parquet")
    market["brokers"].to_parquet(src / "brokers.parquet")  # foreign key: institutions
    market["contracts"].iloc[:300].to_parquet(src / "contracts.parquet")  # institutions, brokers
    paths = [
        src / f
        for f in (
            "institutions_a.parquet",
            "institutions_b.parquet",
            "brokers.parquet",
            "contracts.parquet",
        )
    ]
    _plant_mask_bug(monkeypatch, inst["institution_id"].iloc[4])
    first = {Path(f.path).name: f for f in run_ingest(home, paths, gx_worker).result.files}
    monkeypatch.undo()

    assert first["institutions_a.parquet"].fault is None
    assert "validation engines disagree" in first["institutions_b.parquet"].fault
    for name in ("brokers.parquet", "contracts.parquet"):
        assert "records that were then refused; load this file again" in first[name].fault
        assert first[name].loaded == first[name].quarantined == 0
    assert "checked against institutions records" in first["brokers.parquet"].fault
    assert "checked against brokers, institutions records" in first["contracts.parquet"].fault
    s = Settings(home=home)
    assert len(store.read_curated("institutions", s)) == 4
    assert (
        store.current_version("brokers", s) is None
        and store.current_version("contracts", s) is None
    )

    second = run_ingest(home, paths, gx_worker).result  # the same command again loads the rest
    assert second.ok and [f.skipped is not None for f in second.files] == [
        True,
        False,
        False,
        False,
    ]
    assert len(store.read_curated("institutions", s)) == len(inst)
    assert len(store.read_curated("brokers", s)) == len(market["brokers"])
    assert (
        second.tables["contracts"].inserted
        + sum(f.quarantined for f in second.files if f.path.endswith("contracts.parquet"))
        == 300
    )


def test_gx_is_imported_in_one_worker_process_per_run(
    market: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    code = "import sys, pipelines.ingest.run; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

    src = tmp_path / "src"
    src.mkdir()
    paths = parties(market, src)
    market["contracts"].iloc[:100].to_parquet(src / "contracts.parquet")
    run = run_ingest(tmp_path / "home", [*paths, src / "contracts.parquet"], None)  # starts its own
    gx = [f.gx for f in run.result.files]
    assert [g["rows_checked_by_gx"] for g in gx] == [f.rows_read for f in run.result.files]
    assert [g["suite"] for g in gx] == ["institutions-1", "brokers-2", "contracts-3"]  # one context
    pids = {g["validator_pid"] for g in gx}
    assert len(pids) == 1 and os.getpid() not in pids
    with pytest.raises(ProcessLookupError):  # the run stopped the worker it started
        os.kill(pids.pop(), 0)


def test_a_dead_worker_faults_its_files_and_writes_nothing(
    market: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    market["institutions"].iloc[:4].to_parquet(src / "institutions_a.parquet")
    market["institutions"].iloc[4:].to_parquet(src / "institutions_b.parquet")
    with GXWorker() as worker:
        os.kill(worker.pid, signal.SIGKILL)  # out of memory, say
        run = run_ingest(
            tmp_path / "home",
            [src / "institutions_a.parquet", src / "institutions_b.parquet"],
            worker,
        )
        assert worker.broken
    assert not run.result.ok
    for f in run.result.files:
        assert "the Great Expectations worker stopped" in f.fault and f.loaded == f.quarantined == 0
    assert store.current_version("institutions", Settings(home=tmp_path / "home")) is None


def test_tables_are_staged_once_each_in_load_order_and_copies_are_skipped(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    market["institutions"].to_parquet(src / "institutions.parquet")
    shutil.copy(src / "institutions.parquet", src / "institutions_copy.parquet")
    with IngestRun(Settings(home=tmp_path / "home"), TODAY, worker=gx_worker) as run:
        run.stage_table(
            "institutions", [src / "institutions.parquet", src / "institutions_copy.parquet"]
        )
        with pytest.raises(ValueError, match="institutions is staged already"):
            run.stage_table("institutions", [])  # a second flock on it would wait for ever
        run.stage_table("contracts", [])
        with pytest.raises(ValueError, match="stage brokers before contracts"):
            run.stage_table("brokers", [])
        run.publish()
    first, copy = run.result.files
    assert first.loaded == len(market["institutions"])
    assert (
        copy.skipped == f"same content as {src / 'institutions.parquet'} in this run; nothing to do"
    )


def test_the_shared_worker_is_replaced_once_it_died(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.ingest import gx_worker

    class Stub:  # stands in for the process: this test is about the slot, not the worker
        broken = False

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(gx_worker, "GXWorker", Stub)
    monkeypatch.setattr(gx_worker, "_shared", None)
    first = gx_worker.shared_worker()
    assert gx_worker.shared_worker() is first
    first.broken = True
    second = gx_worker.shared_worker()
    assert second is not first
    gx_worker.close_shared_worker()
    assert second.closed and gx_worker._shared is None
