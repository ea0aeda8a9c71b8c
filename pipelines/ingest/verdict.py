"""How an ingest run ends: its exit code, and the line that says why when it is not 0.

A run that held rows back used to end with exit code 0 and a summary line among others, so a
scheduled job never noticed that a report correction, say, sat in quarantine. Now holding
rows back is a result of its own, ``HELD_BACK`` (3), unless the caller accepts it
(``--allow-quarantine``): a delivery known to carry bad rows, or the demo. A file refused
whole is the graver news and keeps ``FILE_REFUSED`` (1).
"""

from __future__ import annotations

from dataclasses import dataclass

from features.ingest.outcome import IngestResult

OK, FILE_REFUSED, USAGE, HELD_BACK = 0, 1, 2, 3


@dataclass(frozen=True)
class Verdict:
    code: int  # the process exit code
    message: str | None  # one line for stderr when the code is not 0 for held-back rows


def verdict(result: IngestResult, allow_quarantine: bool) -> Verdict:
    """``FILE_REFUSED`` when a file was refused whole (its own lines name it), else
    ``HELD_BACK`` when this run held rows back and that is not allowed, else ``OK``."""
    if not result.ok:
        return Verdict(FILE_REFUSED, None)
    if result.quarantined and not allow_quarantine:
        n = result.quarantined
        return Verdict(HELD_BACK, (
            f"Error: {n:,} rows held back in quarantine (exit {HELD_BACK}) / {n:,} 行被隔离"
            f"（退出码 {HELD_BACK}）: techcredit quarantine list --run {result.run_id}; "
            "--allow-quarantine accepts a run that holds rows back / 允许隔离时加 "
            "--allow-quarantine"))
    return Verdict(OK, None)
