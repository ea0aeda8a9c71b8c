"""A run killed with SIGKILL at any point leaves the store exactly as it was before or as the
whole run leaves it, never in between; running the same command again completes it, with
nothing duplicated. Two runs on overlapping tables at once end serialised.

Each trial forks this process (GX imported once, in the parent) and kills the child at a named
point of the run (``TECHCREDIT_CRASH_AT``) or after a random delay.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.ingest.validation import GXValidator
from features.settings import Settings
from features.standard.tables import LOAD_ORDER, table
from pipelines.ingest.gx_worker import InlineGX
from pipelines.ingest.run import IngestRun
from pipelines.store import curated as store
from pipelines.store.quarantine import read_all
from tests.pipelines.ingest_support import TODAY

EXPORTED = datetime(2026, 11, 20, 8, tzinfo=UTC)  # the first delivery
LATER = datetime(2026, 11, 21, 8, tzinfo=UTC)  # the second, whose run is killed
NAMED_POINTS = [
    "stage:institutions",
    "stage:brokers",
    "stage:contracts",
    "stage:institution_reports",
    "publish:start",
    "publish:fsynced",
    "publish:renamed:institutions",
    "publish:renamed:contracts",
    "publish:manifest-kept",
    "publish:current",
]
RANDOM_TRIALS = 10


def _ingest(home: Path, paths: list[Path], gx: InlineGX, exported: datetime = LATER) -> None:
    with IngestRun(Settings(home=home), TODAY, worker=gx, exported_at=exported) as run:
        for name, files in run.plan(paths).items():
            run.stage_table(name, files)
        run.publish()


def state(home: Path) -> dict[str, pd.DataFrame]:
    """Every table row for row (standard columns, sorted by key) and the queue's rows."""
    s = Settings(home=home)
    snap = store.snapshot(s)
    out = {n: snap.read(n).sort_values(table(n).key).reset_index(drop=True) for n in LOAD_ORDER}
    queue = read_all(s)[["row_id", "table", "state", "reason"]]
    out["queue"] = queue.sort_values("row_id").reset_index(drop=True)
    return out


def same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return all(a[k].equals(b[k]) for k in a)


def _child(home: Path, paths: list[Path], gx: InlineGX, point: str | None) -> int:
    pid = os.fork()
    if pid == 0:  # the child: run, and die at the point (or be killed by the parent)
        code = 0
        try:
            if point:
                os.environ[store.CRASH_ENV] = point
            _ingest(home, paths, gx)
        except BaseException:
            code = 3
        os._exit(code)
    return pid


@pytest.fixture(scope="module")
def scenario(market: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory):
    """A store with a first delivery, and a second delivery that touches four tables: new
    and corrected institutions, brokers, contracts (some quarantined, some replayed) and
    reports."""
    root = tmp_path_factory.mktemp("crash")
    gx = InlineGX(GXValidator())
    inst, brk, con = market["institutions"], market["brokers"], market["contracts"]
    first, second = root / "first", root / "second"
    first.mkdir()
    second.mkdir()
    half = len(inst) // 2
    inst.iloc[:half].to_parquet(first / "institutions.parquet", index=False)
    known = brk["institution_id"].isin(inst["institution_id"].iloc[:half])
    brk[known | brk["institution_id"].isna()].to_parquet(first / "brokers.parquet", index=False)
    con.iloc[:150].to_parquet(first / "contracts.parquet", index=False)  # some wait for parties
    changed = inst.copy()
    changed.loc[changed.index[0], "name"] = changed["name"].iloc[0] + "(更名)"
    changed.to_parquet(second / "institutions.parquet", index=False)
    brk.to_parquet(second / "brokers.parquet", index=False)
    con.iloc[150:300].to_parquet(second / "contracts.parquet", index=False)
    market["institution_reports"].to_parquet(second / "institution_reports.parquet", index=False)
    before = root / "before"
    _ingest(before, sorted(first.glob("*.parquet")), gx, EXPORTED)
    paths = sorted(second.glob("*.parquet"))
    after_home = root / "after"
    shutil.copytree(before, after_home)
    started = time.perf_counter()
    _ingest(after_home, paths, gx)
    seconds = time.perf_counter() - started
    return root, gx, before, paths, state(before), state(after_home), seconds


def test_the_scenario_changes_every_table_and_replays(scenario) -> None:
    _, _, _, _, before, after, _ = scenario
    for name in ("institutions", "brokers", "contracts", "institution_reports"):
        assert not before[name].equals(after[name]), name
    assert (after["queue"]["state"] == "released").any()  # contracts waited for their parties


def test_a_run_killed_anywhere_leaves_before_or_after_and_a_rerun_completes_it(scenario) -> None:
    root, gx, before_home, paths, before, after, seconds = scenario
    rng = np.random.default_rng(11)
    trials = [(p, None) for p in NAMED_POINTS] + [
        (None, float(d)) for d in rng.uniform(0, seconds * 1.2, RANDOM_TRIALS)
    ]
    outcomes = []
    for i, (point, delay) in enumerate(trials):
        home = root / f"trial{i}"
        shutil.copytree(before_home, home)
        pid = _child(home, paths, gx, point)
        if delay is not None:
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)  # may find it finished: then it is simply gone
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert killed or os.waitstatus_to_exitcode(status) == 0, (point, delay, status)
        now = state(home)
        is_before, is_after = same(now, before), same(now, after)
        assert is_before or is_after, f"trial {i} ({point or f'{delay:.2f}s'}): torn store"
        if point is not None:  # a named point always kills, and before CURRENT moves: before
            assert killed and (is_before or point == "publish:current"), point
        _ingest(home, paths, gx)  # the same command again
        assert same(state(home), after), f"trial {i}: the re-run did not complete the run"
        outcomes.append("after" if is_after else "before")
        shutil.rmtree(home)
    assert len(trials) >= 20 and "before" in outcomes and "after" in outcomes


def test_two_runs_on_overlapping_tables_serialise(scenario, tmp_path: Path) -> None:
    root, gx, before_home, paths, _, after, _ = scenario
    home = tmp_path / "home"
    shutil.copytree(before_home, home)
    by_name = {p.stem: p for p in paths}
    a = [by_name["institutions"], by_name["contracts"]]
    b = [by_name["brokers"], by_name["contracts"], by_name["institution_reports"]]
    errors: list[BaseException] = []

    def load(files: list[Path]) -> None:
        try:
            _ingest(home, files, InlineGX())  # a GX context is not shared between threads
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f,)) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _ingest(home, [], gx)  # whatever one run quarantined waiting for the other replays now
    now = state(home)
    for name in LOAD_ORDER:
        assert now[name].equals(after[name]), name  # every row once, none lost
    assert store.current_manifest(Settings(home=home)).sequence >= 3
