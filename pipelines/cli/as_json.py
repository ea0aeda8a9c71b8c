"""``--json`` output shared by the commands: one encoder, so every command prints the same
types the same way.

Each command builds its body from the dataclasses its text output formats (``asdict``), and
this turns what JSON lacks into what it has: dates and times as ISO 8601 strings, enums as
their values, NumPy numbers as numbers, paths as text, and a NaN or infinite figure (a gate
check that could not be computed) as null, since strict JSON has no NaN. Floats keep every
digit Python prints (``repr``), so nothing is rounded for the screen.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as JSON's own types, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # NumPy scalars
        return plain(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return str(value)


def dumps(body: Any) -> str:
    """Indented UTF-8 JSON (Chinese text as it is), strict: no NaN."""
    return json.dumps(plain(body), ensure_ascii=False, indent=2, allow_nan=False)
