"""Spreadsheet-safe CSV, the one way the service and the command line write a CSV.

The files leave the service (the dishonesty list goes to other agencies, rule trials to
reviewers) and are opened in Excel or WPS, which run a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula (``=HYPERLINK(...)`` leaks data, ``=cmd|' /C calc'!A0`` runs a
program); a leading tab or CR is dropped by some importers, leaving the formula behind. Such a
cell gets a leading apostrophe, which spreadsheets show as text and never evaluate
(OWASP's CSV injection advice). Every writer goes through :func:`csv_text`, so no export can
forget it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from numbers import Number
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text a spreadsheet shows and never evaluates. A number is written as it
    is (a negative amount is no formula, and quoting it would make it text)."""
    if isinstance(value, Number) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """``rows`` under ``header`` as CSV, every cell (the header's too) neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    writer.writerows([neutralise(v) for v in row] for row in rows)
    return out.getvalue()
