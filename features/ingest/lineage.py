"""Lineage columns that every curated record carries (source file, line, run), so that any
value in the store can be traced to the export row it came from; and the physical schema
of curated files (the standard's columns, then lineage).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from features.ingest.parsing import to_standard
from features.standard.schema import Table, arrow_schema

LINEAGE: dict[str, pa.DataType] = {
    "_source_file": pa.string(),
    "_source_line": pa.int64(),
    "_run_id": pa.string(),
    # the export time the file declares (or the run's start): orders versions of equal date
    "_exported_at": pa.timestamp("us", tz="UTC"),
}


def curated_schema(t: Table) -> pa.Schema:
    """The physical schema of curated files: the standard's columns then lineage."""
    schema = arrow_schema(t)
    for name, typ in LINEAGE.items():
        schema = schema.append(pa.field(name, typ))
    return schema


def to_curated_arrow(t: Table, df: pd.DataFrame) -> pa.Table:
    std = pa.Table.from_pandas(to_standard(t, df), schema=arrow_schema(t), preserve_index=False)
    for name, typ in LINEAGE.items():
        std = std.append_column(name, _lineage_array(df[name], typ))
    return std


def _lineage_array(s: pd.Series, typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ):  # via naive UTC: pandas drops the zone of tz-aware .values
        naive = pd.to_datetime(s, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        return pa.array(naive, type=pa.timestamp("us"), from_pandas=True).cast(typ)
    return pa.array(s, type=typ, from_pandas=True)
