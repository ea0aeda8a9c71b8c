"""``techcredit quarantine list | show | reject --json``: the queue's rows as typed JSON (line
numbers as numbers, times as ISO 8601, rule ids as a list, the reason class), holding what the
text prints; the text itself is unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from features.settings import get_settings
from pipelines.cli.main import app
from pipelines.ingest.gx_worker import GXWorker
from tests.pipelines.ingest_support import run_ingest


@pytest.fixture
def home(market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store whose queue holds three brokers rows: a negative training time on line 1 and
    both copies of a duplicated id (lines 3 and 4)."""
    brk = market["brokers"].head(3).copy()
    brk.loc[0, "training_hours"] = -3
    brk = pd.concat([brk, brk.iloc[[2]]], ignore_index=True)
    src = tmp_path / "src"
    src.mkdir()
    market["institutions"].to_parquet(src / "institutions.parquet")
    brk.to_parquet(src / "brokers.parquet")
    home = tmp_path / "home"
    run_ingest(home, [src / "institutions.parquet", src / "brokers.parquet"], gx_worker)
    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_list_as_json_holds_the_rows_the_text_prints(home: Path) -> None:
    text = run("quarantine", "list", "--limit", "2")
    assert text.exit_code == 0 and text.output.startswith("3 rows (open)"), text.output
    assert "... 1 more (--limit)" in text.output
    out = run("quarantine", "list", "--limit", "2", "--json")
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert (body["state"], body["table"], body["total"], body["limit"]) == ("open", None, 3, 2)
    assert len(body["rows"]) == 2
    first = body["rows"][0]
    assert first["row_id"] in text.output and first["reason"] in text.output
    assert first["source_line"] == 1 and isinstance(first["replayable"], bool)
    assert first["rules"] == ["range:training_hours"] and first["reason_class"] == "validation"
    assert pd.Timestamp(first["exported_at"]).tzinfo is not None  # ISO 8601 with its zone
    every = json.loads(run("quarantine", "list", "--json").stdout)
    assert sorted(r["reason_class"] for r in every["rows"]) == [
        "duplicate", "duplicate", "validation"]


def test_show_and_reject_as_json(home: Path) -> None:
    rows = json.loads(run("quarantine", "list", "--json").stdout)["rows"]
    dup = next(r for r in rows if r["reason_class"] == "duplicate")
    shown = run("quarantine", "show", dup["row_id"], "--json")
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.stdout)
    assert row == dup
    assert row["fields"]["broker_id"] == row["reason"].split("'")[1]  # fields as exported
    assert row["state"] == "open" and row["state_at"] is None and row["raw_text"] is None
    text = run("quarantine", "show", dup["row_id"])
    assert f"source_line  {row['source_line']}" in text.output
    assert f"rules        {row['rules'][0]}" in text.output

    done = run("quarantine", "reject", dup["row_id"], "--by", "王审", "--note", "测试记录",
               "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"rows": 1, "by": "王审", "note": "测试记录",
                                       "row_ids": [dup["row_id"]]}
    closed = json.loads(run("quarantine", "show", dup["row_id"], "--json").stdout)
    assert (closed["state"], closed["state_by"], closed["state_note"]) == (
        "rejected", "王审", "测试记录")
    missing = run("quarantine", "show", "nope:1", "--json")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert "no quarantined row with id nope:1" in missing.stderr
