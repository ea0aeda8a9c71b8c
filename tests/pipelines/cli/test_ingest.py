"""End to end: `techcredit ingest` runs the real Prefect flow on small files (one flow run a
command): what it loads, what it holds back and why, its exit codes, its JSON, and what a
replay could not release."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from features.settings import Settings, get_settings
from features.standard.tables import BROKERS
from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec
from pipelines.cli.main import app
from pipelines.ingest.gx_worker import GXWorker
from pipelines.store import curated as store
from tests.pipelines.ingest_support import run_ingest


@pytest.mark.e2e
def test_ingest_command_loads_quarantines_reports_and_fails_on_a_bad_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = generate_market(MarketSpec(2019, 2020, 0.002, 5)).tables
    src = tmp_path / "exports"
    src.mkdir()
    tables["institutions"].to_parquet(src / "institutions.parquet")
    brk = tables["brokers"].copy()
    brk["certified_date"] = brk["certified_date"].dt.strftime("%Y-%m-%d")
    brk.loc[0, "training_hours"] = -3
    brk.columns = [c.zh for c in BROKERS.columns]
    brk.to_csv(src / "brokers_2020.csv", index=False, encoding="gb18030")
    (src / "contracts_missing.csv").write_text("contract_id\nC00000001\n", encoding="utf-8")

    home = tmp_path / "home"
    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ingest", *map(str, sorted(src.iterdir()))])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1, result.output
    n = len(tables["institutions"]) + len(tables["brokers"])
    assert f"{n:,} rows read, {n - 1:,} loaded, 1 quarantined" in result.output, result.output
    assert "range:training_hours" in result.output
    assert "隔离 held back in quarantine: 1 rows" in result.output
    assert "未通过校验 failed validation" in result.output
    assert "(exit 3)" not in result.output  # a refused file is the graver news: exit 1
    assert "contracts_missing.csv: missing required column(s) for table contracts" in result.output
    assert "Traceback" not in result.output and "contracts  " not in result.output
    assert "Warning" not in result.output and "INFO" not in result.output

    reports = sorted((home / "reports" / "ingest").glob("*.json"))
    assert len(reports) == 1 and reports[0].with_suffix(".html").exists()
    body = json.loads(reports[0].read_text(encoding="utf-8"))
    assert body["totals"]["quarantined"] == 1 and body["totals"]["ok"] is False
    assert "techcredit quarantine list --run" in result.output

    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    get_settings.cache_clear()
    try:
        listed = CliRunner().invoke(app, ["quarantine", "list", "--table", "brokers"])
        row_id = listed.output.splitlines()[1].split()[0]
        shown = CliRunner().invoke(app, ["quarantine", "show", row_id])
        refused = CliRunner().invoke(app, ["quarantine", "reject", row_id, "--by", "王审"])
        rejected = CliRunner().invoke(
            app, ["quarantine", "reject", row_id, "--by", "王审", "--note", "negative hours"]
        )
        again = CliRunner().invoke(
            app, ["quarantine", "reject", row_id, "--by", "王审", "--note", "twice"]
        )
        versions = CliRunner().invoke(app, ["store", "versions"])
        closed = CliRunner().invoke(app, ["quarantine", "list", "--state", "rejected"])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0 and listed.output.startswith("1 rows (open)")
    assert "brokers_2020.csv:2" in listed.output and "range:training_hours" in listed.output
    assert shown.exit_code == 0 and "training_hours       -3" in shown.output, shown.output
    assert refused.exit_code == 2 and "--note" in refused.output  # a reason is required
    assert rejected.exit_code == 0 and "1 rows rejected by 王审" in rejected.output
    assert again.exit_code == 2 and "is rejected already" in again.output
    assert "Traceback" not in again.output
    assert closed.output.startswith("1 rows (rejected)")
    assert versions.exit_code == 0 and "quarantine reject by 王审" in versions.output
    brokers = store.read_curated("brokers", Settings(home=home))
    assert len(brokers) == len(tables["brokers"]) - 1


def _cli(home: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def _write(df: pd.DataFrame, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)
    return str(path)


@pytest.mark.e2e
def test_held_back_rows_exit_3_unless_allowed_and_json_holds_the_classes(
        market: dict[str, pd.DataFrame], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    brk = market["brokers"].copy()
    brk.loc[0, "training_hours"] = -3  # failed validation
    brk = pd.concat([brk, brk.iloc[[1]]], ignore_index=True)  # a duplicated id: both copies
    first = _cli(home, monkeypatch, "ingest",
                 _write(market["institutions"], tmp_path / "a" / "institutions.parquet"),
                 _write(brk, tmp_path / "a" / "brokers.parquet"))
    assert first.exit_code == 3, first.output
    assert "隔离 held back in quarantine: 3 rows / 3 行未载入" in first.stdout
    assert "         1  未通过校验 failed validation" in first.stdout
    assert "         2  文件内编号重复 duplicate id in the file" in first.stdout
    assert "3 rows held back in quarantine (exit 3) / 3 行被隔离" in first.stderr
    assert "--allow-quarantine" in first.stderr and "Traceback" not in first.output

    later = market["brokers"].head(3).copy()
    later.loc[2, "region"] = "999999"
    allowed = _cli(home, monkeypatch, "ingest", "--allow-quarantine",
                   _write(later, tmp_path / "b" / "brokers.parquet"))
    assert allowed.exit_code == 0, allowed.output
    assert "隔离 held back in quarantine: 1 rows" in allowed.stdout and not allowed.stderr
    as_json = _cli(home, monkeypatch, "ingest", "--allow-quarantine", "--json",
                   _write(later.assign(training_hours=-1), tmp_path / "c" / "brokers.parquet"))
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert body["exit_code"] == 0 and body["unreleased"] is None
    assert body["totals"]["rows_read"] == 3 and body["totals"]["quarantined"] == 3
    assert body["totals"]["held_back"] == {"validation": 3}
    assert body["totals"]["reasons"] == {"range:training_hours": 3, "in set:region": 1}
    (f,) = body["files"]
    assert f["held_back"] == {"validation": 3} and f["rows_read"] == 3 and f["loaded"] == 0
    assert [c["code"] for c in body["reason_classes"]] == [
        "malformed", "validation", "duplicate", "reference", "stale", "irreversible"]
    strict = _cli(home, monkeypatch, "ingest", "--json",
                  _write(later.assign(training_hours=-2), tmp_path / "d" / "brokers.parquet"))
    assert strict.exit_code == 3 and json.loads(strict.stdout)["exit_code"] == 3


@pytest.mark.e2e
def test_replay_says_what_it_could_not_release_and_why(
        market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    con = market["contracts"]
    waiting = con[con["institution_id"].notna()].head(4)  # their institutions never came
    brk = market["brokers"].head(2).copy()  # so do the brokers' institutions
    brk.loc[0, "training_hours"] = -3  # and a reference would not be enough for this one
    run_ingest(home, [Path(_write(brk, tmp_path / "a" / "brokers.parquet")),
                      Path(_write(waiting, tmp_path / "a" / "contracts.parquet"))], gx_worker)

    text = _cli(home, monkeypatch, "ingest", "--replay")
    assert text.exit_code == 0, text.output  # a replay holds nothing new back
    out = text.stdout
    assert "未能放行 not released: 6 rows still open in quarantine / 6 行仍在隔离区" in out
    assert out.index("brokers  ") < out.index("contracts  ")  # load order
    assert "引用的记录尚未到达 refers to a record not delivered yet" in out
    assert "已重新校验，仍未通过 re-checked, still failing" in out
    assert "重放不检查此类 a replay does not re-check these" in out
    assert "0 replayed from quarantine, 4 still open" in out

    body = json.loads(_cli(home, monkeypatch, "ingest", "--replay", "--json").stdout)
    assert body["exit_code"] == 0
    assert [(u["table"], u["reason"]["code"], u["rechecked"], u["rows"], len(u["examples"]))
            for u in body["unreleased"]] == [("brokers", "validation", False, 1, 1),
                                             ("brokers", "reference", True, 1, 1),
                                             ("contracts", "reference", True, 4, 3)]
    assert body["tables"]["contracts"]["replay_open"] == 4

    only = json.loads(_cli(home, monkeypatch, "ingest", "--replay", "--table", "brokers",
                           "--json").stdout)
    assert [u["table"] for u in only["unreleased"]] == ["brokers", "brokers"]


@pytest.mark.e2e
def test_a_correction_in_the_same_delivery_loads_and_exits_0(
        market: dict[str, pd.DataFrame], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: a report and its correction (same submitted date) in one delivery."""
    home, src = tmp_path / "home", tmp_path / "d"
    reports = market["institution_reports"].head(3)
    fix = reports.head(1).assign(staff=reports["staff"].iloc[0] + 5)
    paths = [_write(market["institutions"], src / "institutions.parquet"),
             _write(reports, src / "institution_reports.parquet"),
             _write(fix, src / "institution_reports_fix.parquet")]
    run = _cli(home, monkeypatch, "ingest", *paths)
    assert run.exit_code == 0, run.output
    assert "0 quarantined" in run.stdout and "held back" not in run.stdout
    assert "1 versions replaced by a later one of this delivery (in history)" in run.stdout
    stored = store.read_curated("institution_reports", Settings(home=home))
    assert stored.set_index("report_id").loc[fix["report_id"].iloc[0], "staff"] == (
        fix["staff"].iloc[0])
