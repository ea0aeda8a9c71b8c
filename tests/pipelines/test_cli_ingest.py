"""End to end: `techcredit ingest` runs the real Prefect flow on small files (one flow run)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from features.standard.tables import BROKERS
from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec
from pipelines.cli import app


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
    q = pd.read_parquet(next((home / "quarantine" / "brokers").glob("*.parquet")))
    assert q["training_hours"].tolist() == ["-3"] and q["_source_line"].tolist() == [2]
    assert len(pd.read_parquet(home / "curated" / "brokers")) == len(tables["brokers"]) - 1
