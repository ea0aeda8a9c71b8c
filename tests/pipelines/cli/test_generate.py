"""The ``techcredit generate`` and ``docs`` commands as a user runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli.main import app

runner = CliRunner()


def test_generate_writes_tables_and_prints_the_calibration(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--years", "2019-2020",
                                 "--scale", "0.01", "--seed", "5", "--check"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "contracts.parquet").exists()
    assert (tmp_path / "_truth" / "contracts.parquet").exists()
    assert "2020 contracts" in result.output and "✗" not in result.output


def test_bad_year_range_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--years", "2020-2011"])
    assert result.exit_code == 2
    assert "first year after last year" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--years", "twenty"])
    assert result.exit_code == 2 and "--years must look like 2011-2020" in result.output


def test_unknown_encoding_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--format", "csv",
                                 "--encoding", "klingon"])
    assert result.exit_code == 2 and "unknown --encoding 'klingon'" in result.output
