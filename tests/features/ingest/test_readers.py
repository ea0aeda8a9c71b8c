"""Reading exports: table from the name, header mapping (English and Chinese), encodings,
whole-file faults, malformed lines, and typing values without crashing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.ingest.parsing import parse_frame
from features.ingest.readers import FileFault, read_export, table_for_path
from features.standard.tables import BROKERS, CONTRACTS, INSTITUTIONS

BROKER_ROWS = [
    ["B0000001", "I000001", "初级技术经纪人", "110000", "2015-03-01", "40"],
    ["B0000002", "", "senior", "北京市", "2016/04/02", "\"1,200\""],
]


def _csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8",
         bom: bool = False) -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def test_table_comes_from_file_name_or_option(tmp_path: Path) -> None:
    assert table_for_path(Path("contracts_2020.csv")).name == "contracts"
    assert table_for_path(Path("institution_reports.parquet")).name == "institution_reports"
    assert table_for_path(Path("institutions-2021.csv")).name == "institutions"
    assert table_for_path(Path("x.csv"), "brokers").name == "brokers"
    with pytest.raises(FileFault, match="unknown table"):
        table_for_path(Path("payments.csv"))
    with pytest.raises(FileFault, match="unknown table 'payments'"):
        table_for_path(Path("x.csv"), "payments")


@pytest.mark.parametrize(("encoding", "bom", "label"), [
    ("gb18030", False, "gb18030"), ("utf-8", True, "utf-8-sig"), ("utf-8", False, "utf-8"),
])
def test_chinese_headers_and_labels_map_to_the_standard(tmp_path: Path, encoding: str, bom: bool,
                                                        label: str) -> None:
    header = [c.zh for c in BROKERS.columns]
    raw = read_export(_csv(tmp_path / "brokers.csv", header, BROKER_ROWS, encoding, bom))
    assert raw.encoding == label
    assert list(raw.frame.columns) == BROKERS.column_names
    assert raw.lines.tolist() == [2, 3]
    parsed = parse_frame(BROKERS, raw.frame)
    assert parsed.failures == {}
    df = parsed.frame
    assert df["cert_level"].tolist() == ["junior", "senior"]
    assert df["region"].tolist() == ["110000", "110000"]
    assert df["certified_date"].tolist() == [pd.Timestamp("2015-03-01"), pd.Timestamp("2016-04-02")]
    assert df["training_hours"].tolist() == [40, 1200]
    assert df["institution_id"].isna().tolist() == [False, True]


def test_undecodable_file_is_a_whole_file_fault(tmp_path: Path) -> None:
    path = tmp_path / "brokers.csv"
    path.write_bytes(",".join(BROKERS.column_names).encode() + b"\n\x80\xff\xfe\x81,\xff\n")
    with pytest.raises(FileFault, match="cannot be decoded as UTF-8 or GB18030"):
        read_export(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file"), (b"\xef\xbb\xbf\n", "empty file"),
    (b"broker_id,region\nB0000001,110000\n",
     r"missing required column\(s\) for table brokers: cert_level"),
    (b"PAR1\x00\x01garbage", "unreadable Parquet"),
])
def test_whole_file_faults_name_the_problem(tmp_path: Path, content: bytes, message: str) -> None:
    suffix = ".parquet" if content.startswith(b"PAR1") else ".csv"
    path = tmp_path / f"brokers{suffix}"
    path.write_bytes(content)
    with pytest.raises(FileFault, match=message) as err:
        read_export(path)
    assert str(err.value).startswith(str(path))


def test_truncated_last_line_is_kept_as_a_malformed_row(tmp_path: Path) -> None:
    path = _csv(tmp_path / "brokers.csv", BROKERS.column_names, BROKER_ROWS)
    path.write_bytes(path.read_bytes() + b"B0000003,I000001,jun")
    raw = read_export(path)
    assert len(raw.frame) == 2 and raw.rows_read == 3
    assert raw.malformed["_source_line"].tolist() == [4]
    assert raw.malformed["_raw_text"].tolist() == ["B0000003,I000001,jun"]
    assert "3 fields where the header has 6" in raw.malformed["reason"].iloc[0]


def test_missing_nullable_column_and_extra_columns_are_reported(tmp_path: Path) -> None:
    header = [c for c in BROKERS.column_names if c != "institution_id"] + ["备注"]
    rows = [[r[0], *r[2:], "note"] for r in BROKER_ROWS]
    raw = read_export(_csv(tmp_path / "brokers_2020.csv", header, rows))
    assert raw.missing_nullable == ["institution_id"]
    assert raw.extra_columns == ["备注"]
    assert parse_frame(BROKERS, raw.frame).frame["institution_id"].isna().all()


def test_unreadable_values_become_parse_failures_not_crashes() -> None:
    raw = pd.DataFrame({
        "amount_yuan": ["abc", "1,234.50", None, "1e400"],
        "signed_date": ["2020-13-45", "2020-02-03", "2020-02-03 00:00:00", "2020-02-03 12:30:00"],
        "training_hours": ["3.5", "7", "", "x"],
    })
    typed = parse_frame(CONTRACTS, raw)
    assert typed.failures["signed_date"].tolist() == [True, False, False, True]
    assert typed.frame["signed_date"].iloc[2] == pd.Timestamp("2020-02-03")
    assert typed.failures["amount_yuan"].tolist() == [True, False, False, False]
    amounts = typed.frame["amount_yuan"]
    assert amounts.iloc[1] == 1234.5 and np.isinf(amounts.iloc[3])
    brokers = parse_frame(BROKERS, raw.rename(columns={"signed_date": "certified_date"}))
    assert brokers.failures["training_hours"].tolist() == [True, False, False, True]
    assert brokers.frame["training_hours"].dtype == "Int64"


def test_parquet_export_with_chinese_column_names(tmp_path: Path) -> None:
    df = pd.DataFrame({c.zh: ["I000001"] if c.dtype == "str" else [pd.Timestamp("2010-01-01")]
                       for c in INSTITUTIONS.columns})
    df.to_parquet(tmp_path / "institutions.parquet")
    raw = read_export(tmp_path / "institutions.parquet")
    assert raw.encoding is None and raw.lines.tolist() == [1]
    assert list(raw.frame.columns) == INSTITUTIONS.column_names


def test_a_parquet_export_written_with_its_pandas_index_reads(tmp_path: Path) -> None:
    frame = pd.DataFrame({"broker_id": ["B0000001", "B0000002"], "institution_id": [None, None],
                          "cert_level": ["junior", "senior"], "region": ["110000", "110000"],
                          "certified_date": pd.to_datetime(["2020-01-01", "2020-02-01"]),
                          "training_hours": [10, 20]}, index=[7, 9])
    frame.to_parquet(tmp_path / "brokers.parquet")  # keeps the index as __index_level_0__
    raw = read_export(tmp_path / "brokers.parquet")
    assert raw.frame["broker_id"].tolist() == ["B0000001", "B0000002"]
    assert raw.extra_columns == ["__index_level_0__"]
