"""Reading regulators' export files into frames named after the data standard.

An export is Parquet or CSV (UTF-8, UTF-8 with BOM, or GB18030; detected unless declared).
Headers may be the standard's English column names or its Chinese labels (``Column.zh``), so
a Chinese export maps without hand work. Values are kept as read: typing them is the parser's
job (:mod:`features.ingest.parsing`), so that a bad value becomes a quarantine reason, not a crash.

Problems that concern the whole file raise :class:`FileFault` with one line naming the file
and the problem; rows that cannot even be split into fields (a truncated last line, a stray
separator) are returned as :attr:`RawFile.malformed` so they can be quarantined.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.standard.schema import Table
from features.standard.tables import TABLES

BOM = b"\xef\xbb\xbf"


class FileFault(Exception):
    """A fault of the whole file: nothing of it is loaded; the message is one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class RawFile:
    path: Path
    table: Table
    frame: pd.DataFrame  # standard columns (renamed) then extra columns under their header
    lines: np.ndarray  # source line (CSV, header = line 1) or row number (Parquet, from 1)
    encoding: str | None  # None for Parquet
    header: dict[str, str]  # standard column -> header as found in the file
    extra_columns: list[str] = field(default_factory=list)
    missing_nullable: list[str] = field(default_factory=list)
    malformed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"_source_line": [], "_raw_text": [], "reason": []})
    )

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def table_for_path(path: Path, declared: str | None = None) -> Table:
    """The table a file belongs to: declared, or its stem (``contracts_2020.csv`` → contracts)."""
    if declared is not None:
        if declared not in TABLES:
            raise FileFault(path, f"unknown table {declared!r} (known: {', '.join(TABLES)})")
        return TABLES[declared]
    stem = path.name.split(".", 1)[0].lower()
    for name in sorted(TABLES, key=len, reverse=True):
        if stem == name or stem.startswith((f"{name}_", f"{name}-")):
            return TABLES[name]
    raise FileFault(
        path, f"unknown table: cannot tell the table from the name {stem!r} "
        f"(name files <table>[_suffix], or pass --table; known: {', '.join(TABLES)})"
    )


def _normal(header: str) -> str:
    return header.replace("\ufeff", "").strip().lower()


def column_aliases(t: Table) -> dict[str, str]:
    """Accepted header spellings (normalised) → standard column name."""
    out: dict[str, str] = {}
    for c in t.columns:
        for alias in (c.name, c.zh, c.en):
            out.setdefault(_normal(alias), c.name)
    return out


def map_headers(
    path: Path, t: Table, headers: list[str]
) -> tuple[dict[str, str], list[str], list[str]]:
    """Match file headers to the standard.

    Returns (standard name → header, extra headers, missing nullable columns); raises
    :class:`FileFault` for a missing required column or two headers naming one column.
    """
    aliases = column_aliases(t)
    found: dict[str, str] = {}
    extra: list[str] = []
    for h in headers:
        name = aliases.get(_normal(h))
        if name is None:
            extra.append(h)
        elif name in found:
            raise FileFault(path, f"columns {found[name]!r} and {h!r} both map to {name!r}")
        else:
            found[name] = h
    missing = [c.name for c in t.columns if c.name not in found]
    required = [n for n in missing if not t.column(n).nullable]
    if required:
        labels = ", ".join(f"{n} ({t.column(n).zh})" for n in required)
        raise FileFault(path, f"missing required column(s) for table {t.name}: {labels}")
    return found, extra, missing


def decode(path: Path, data: bytes, encoding: str | None) -> tuple[bytes, str]:
    """UTF-8 bytes without BOM for the CSV reader, and the encoding that was used."""
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileFault(
                path, f"cannot be decoded as declared encoding {encoding}: {exc}"
            ) from None
        return text.lstrip("\ufeff").encode("utf-8"), encoding
    if data.startswith(BOM):
        data = data[len(BOM):]
        label = "utf-8-sig"
    else:
        label = "utf-8"
    try:
        data.decode("utf-8")
        return data, label
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030").encode("utf-8"), "gb18030"
        except UnicodeDecodeError:
            raise FileFault(
                path, f"cannot be decoded as UTF-8 or GB18030 (byte {data[utf8_error.start]:#04x} "
                f"at offset {utf8_error.start})"
            ) from None


def _read_csv_table(data: bytes, headers: list[str], threads: bool) -> tuple[pa.Table, list]:
    invalid: list = []

    def keep(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    at = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=threads, column_names=headers, skip_rows=1),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in headers},
            strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""],
        ),
    )
    return at, invalid


def read_csv(path: Path, t: Table, encoding: str | None = None) -> RawFile:
    data = path.read_bytes()
    if not data.strip(BOM + b" \r\n\t"):
        raise FileFault(path, "empty file (no header, no rows)")
    data, used = decode(path, data, encoding)
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    headers = next(csv.reader([first]))
    if len(set(headers)) != len(headers):
        raise FileFault(path, f"duplicate column names in header: {headers}")
    found, extra, missing = map_headers(path, t, headers)
    try:
        at, invalid = _read_csv_table(data, headers, threads=True)
        if invalid and any(r.number is None for r in invalid):
            at, invalid = _read_csv_table(data, headers, threads=False)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise FileFault(path, f"unreadable CSV: {str(exc).splitlines()[0]}") from None
    bad_lines = np.array([r.number for r in invalid], dtype=np.int64)
    # Physical lines of good rows: every line after the header except the malformed ones
    # (exact unless a quoted value spans lines, which these exports do not use).
    total = at.num_rows + len(invalid)
    all_lines = np.arange(2, total + 2, dtype=np.int64)
    lines = all_lines[~np.isin(all_lines, bad_lines)] if len(invalid) else all_lines
    malformed = pd.DataFrame({
        "_source_line": bad_lines,
        "_raw_text": [r.text for r in invalid],
        "reason": [f"malformed row: {r.actual_columns} fields where the header has "
                   f"{r.expected_columns} (truncated or misaligned line)" for r in invalid],
    })
    frame = _rename(at.to_pandas(), found, extra)
    return RawFile(path, t, frame, lines, used, found, extra, missing, malformed)


def read_parquet(path: Path, t: Table) -> RawFile:
    try:
        at = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileFault(path, f"unreadable Parquet file: {str(exc).splitlines()[0]}") from None
    found, extra, missing = map_headers(path, t, at.column_names)
    # pandas metadata would turn a saved index (``__index_level_0__``) back into the index,
    # and the column would vanish from under its name: read the columns as stored
    frame = _rename(at.to_pandas(date_as_object=False, ignore_metadata=True), found, extra)
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawFile(path, t, frame, lines, None, found, extra, missing)


def _rename(df: pd.DataFrame, found: dict[str, str], extra: list[str]) -> pd.DataFrame:
    inverse = {h: n for n, h in found.items()}
    return df[[*found.values(), *extra]].rename(columns=inverse).reset_index(drop=True)


def read_export(path: Path, table_name: str | None = None, encoding: str | None = None) -> RawFile:
    """Read one export file; the format comes from the suffix (``.parquet``/``.pq`` or CSV)."""
    path = Path(path)
    t = table_for_path(path, table_name)
    if not path.is_file():
        raise FileFault(path, "no such file")
    if path.stat().st_size == 0:
        raise FileFault(path, "empty file (0 bytes)")
    if path.suffix.lower() in (".parquet", ".pq"):
        return read_parquet(path, t)
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv(path, t, encoding)
    raise FileFault(path, f"unsupported file type {path.suffix!r} (Parquet or CSV)")
