"""End to end: `techcredit ingest` runs the real Prefect flow on small files (one flow run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import Settings, get_settings
from features.standard.tables import BROKERS
from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec
from pipelines.cli.main import app
from pipelines.store import curated as store


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
