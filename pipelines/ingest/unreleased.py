"""What a replay left in quarantine, and why, per table and reason class.

``techcredit ingest --replay`` re-checks the open rows whose only fault was a reference to a
record not yet delivered. It used to say nothing of the rows it did not load, including the
ones a replay never looks at (stale versions, failed validation), so an operator waiting for
a replay to bring a correction in waited for ever. This lists them, with the remedy.
"""

from __future__ import annotations

from dataclasses import dataclass

from features.ingest.held_back import BY_CODE, CLASSES, ReasonClass
from features.ingest.quarantine import OPEN
from features.ingest.queued import typed_rows
from features.settings import Settings
from features.standard.tables import LOAD_ORDER
from pipelines.store.quarantine import read_all

EXAMPLES = 3  # row ids named per group


@dataclass(frozen=True)
class Unreleased:
    """Open rows of one table and reason class after a replay."""

    table: str
    reason: ReasonClass
    rechecked: bool  # re-checked by the replay, still failing; False: a replay never does
    rows: int
    examples: tuple[str, ...]  # the first row ids (all of them: quarantine list --state open)


def unreleased(settings: Settings, table: str | None = None) -> list[Unreleased]:
    """The open rows of ``table`` (or every table), grouped, in load and class order."""
    queue = read_all(settings, table)
    rows = typed_rows(queue[queue["state"] == OPEN])
    groups: dict[tuple[str, str, bool], list[str]] = {}
    for r in rows:
        groups.setdefault((r.table, r.reason_class, r.replayable), []).append(r.row_id)
    order = [c.code for c in CLASSES]
    keys = sorted(groups, key=lambda k: (LOAD_ORDER.index(k[0]), order.index(k[1]), not k[2]))
    return [Unreleased(t, BY_CODE[c], rechecked, len(groups[t, c, rechecked]),
                       tuple(groups[t, c, rechecked][:EXAMPLES]))
            for t, c, rechecked in keys]


def unreleased_lines(items: list[Unreleased]) -> list[str]:
    """The replay's account of what it could not release, zh and en."""
    if not items:
        return ["  隔离区已无待处理行 nothing left open in quarantine"]
    total = sum(u.rows for u in items)
    lines = [f"  未能放行 not released: {total:,} rows still open in quarantine / "
             f"{total:,} 行仍在隔离区"]
    for u in items:
        why = ("已重新校验，仍未通过 re-checked, still failing" if u.rechecked
               else "重放不检查此类 a replay does not re-check these")
        more = " …" if u.rows > len(u.examples) else ""
        lines += [f"    {u.table:<20} {u.rows:>8,}  {u.reason.label()}",
                  f"    {'':<20} {'':>8}  {why}; {u.reason.remedy()}",
                  f"    {'':<20} {'':>8}  e.g. {', '.join(u.examples)}{more}"]
    lines.append("  see the rows: techcredit quarantine list [--table T]")
    return lines
