"""Fast set membership for text columns.

pandas 3's ``Series.isin`` on Arrow-backed text converts the value set element by element in
Python (about 10 s for a million keys); Arrow's ``is_in`` does the same in C. Ingest tests
membership of millions of keys (store lookups, foreign keys), so it goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(values: pd.Series | pd.Index | Iterable) -> pa.Array:
    if isinstance(values, (pd.Series, pd.Index)):
        return pa.array(
            values.astype("str") if not pd.api.types.is_string_dtype(values) else values,
            type=pa.large_string(),
            from_pandas=True,
        )
    return _arrow(pd.Series(list(values), dtype=object))  # any iterable: compared as text too


def is_in(s: pd.Series, values: pd.Series | pd.Index | Iterable) -> np.ndarray:
    """Boolean mask: which values of text series ``s`` are in ``values`` (null → False)."""
    if len(s) == 0:
        return np.zeros(0, dtype=bool)
    hit = pc.is_in(_arrow(s), value_set=_arrow(values), skip_nulls=True)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
