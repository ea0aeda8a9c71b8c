"""The validation report of an ingest run: JSON for machines, HTML for people, a terminal summary.

Reports go to ``$TECHCREDIT_HOME/reports/ingest/<run_id>.json`` and ``.html``; the JSON holds
every file's counts, reasons, Great Expectations suite results and the table merges.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path

from features.ingest.held_back import BY_CODE, CLASSES
from features.ingest.outcome import IngestResult
from features.settings import Settings


def to_json(result: IngestResult) -> dict:
    body = asdict(result)
    body["totals"] = {"rows_read": result.rows_read, "loaded": result.loaded,
                      "quarantined": result.quarantined, "replayed": result.replayed,
                      "ok": result.ok,
                      "reasons": dict(result.reasons().most_common()),
                      "held_back": result.held_back()}
    body["reason_classes"] = [asdict(c) for c in CLASSES]
    return body


def render_html(result: IngestResult) -> str:
    e = html.escape
    rows = []
    for f in result.files:
        status = (
            "fault: " + f.fault
            if f.fault
            else ("skipped: " + f.skipped if f.skipped else "loaded")
        )
        reasons = "<br>".join(f"{e(k)}: {v:,}" for k, v in sorted(f.reasons.items()))
        rows.append(
            f"<tr><td>{e(f.path)}</td><td>{e(f.table or '')}</td><td>{e(f.encoding or '')}</td>"
            f"<td>{f.rows_read:,}</td><td>{f.loaded:,}</td><td>{f.quarantined:,}</td>"
            f"<td>{reasons}</td><td>{e(status)}</td></tr>"
        )
    gx_rows = []
    for f in result.files:
        for x in (f.gx or {}).get("expectations", []):
            gx_rows.append(
                f"<tr><td>{e(Path(f.path).name)}</td><td>{e(x['expectation'])}</td><td>{e(x['column'])}</td>"
                f"<td>{'pass' if x['success'] else 'FAIL'}</td><td>{x['rows_checked_by_gx']:,}</td>"
                f"<td>{x['unexpected_by_gx']:,}</td><td>{x['unexpected_in_file']:,}</td>"
                f"<td>{e(json.dumps(x['partial_unexpected'], ensure_ascii=False, default=str))}"
                "</td></tr>"
            )
    tables = "".join(
        f"<tr><td>{e(t.table)}</td><td>{t.inserted:,}</td><td>{t.updated:,}</td><td>{t.unchanged:,}</td>"
        f"<td>{t.history_rows:,}</td><td>{t.rows_after:,}</td><td>{e(t.version or '')}</td>"
        f"<td>{t.replayed:,} ({t.replay_open:,} still open)</td><td>{t.refused:,}</td></tr>"
        for t in result.tables.values())
    return f"""<!doctype html><html lang="zh"><meta charset="utf-8">
<title>Ingest {e(result.run_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}}</style>
<h1>数据导入校验报告 / Ingest validation report</h1>
<p>run {e(result.run_id)}, {e(result.started)} – {e(result.finished)}:
{result.rows_read:,} rows read, {result.loaded:,} loaded, {result.quarantined:,} quarantined.</p>
<h2>Files</h2><table><tr><th>file</th><th>table</th><th>encoding</th><th>read</th><th>loaded</th>
<th>quarantined</th><th>reasons</th><th>status</th></tr>{''.join(rows)}</table>
<h2>Tables</h2><table><tr><th>table</th><th>inserted</th><th>updated</th><th>unchanged</th>
<th>history rows</th><th>rows now</th><th>version</th><th>replayed from quarantine</th>
<th>refused (stale or irreversible)</th></tr>{tables}</table>
<h2>Great Expectations suites</h2><p>GX checks every rejected row plus a sample of accepted rows
(all rows of small files); the counts in the file column come from the verified masks.</p>
<table><tr><th>file</th><th>expectation</th><th>column</th><th>result</th><th>rows checked</th>
<th>unexpected (GX)</th><th>unexpected (file)</th><th>examples</th></tr>{''.join(gx_rows)}</table>
</html>
"""


def write_reports(result: IngestResult, settings: Settings) -> tuple[Path, Path]:
    out = settings.reports_dir / "ingest"
    out.mkdir(parents=True, exist_ok=True)
    jpath, hpath = out / f"{result.run_id}.json", out / f"{result.run_id}.html"
    result.report_json, result.report_html = str(jpath), str(hpath)
    jpath.write_text(
        json.dumps(to_json(result), indent=1, ensure_ascii=False, default=str), encoding="utf-8"
    )
    hpath.write_text(render_html(result), encoding="utf-8")
    return jpath, hpath


def summary(result: IngestResult) -> str:
    """One screen: totals, per-table merge, per-reason counts, faults."""
    lines = [(f"ingest run {result.run_id}: {result.rows_read:,} rows read, "
              f"{result.loaded:,} loaded, {result.quarantined:,} quarantined")]
    for t in result.tables.values():
        if not (t.files_loaded or t.replayed or t.replay_open):
            continue
        line = (f"  {t.table:<20} +{t.inserted:,} new, {t.updated:,} corrected, "
                f"{t.unchanged:,} unchanged -> {t.rows_after:,} rows")
        if t.replayed or t.replay_open:
            line += f"; {t.replayed:,} replayed from quarantine, {t.replay_open:,} still open"
        if t.refused:
            line += f"; {t.refused:,} stale or irreversible versions quarantined"
        if t.superseded_in_run:
            line += (f"; {t.superseded_in_run:,} versions replaced by a later one of this "
                     "delivery (in history)")
        lines.append(line)
    lines += held_back_lines(result)
    reasons = result.reasons().most_common()
    if reasons:
        lines.append("  quarantined by reason:")
        lines += [f"    {n:>10,}  {k}" for k, n in reasons[:15]]
        if len(reasons) > 15:
            lines.append(f"    ... {len(reasons) - 15} more reasons in the report")
    for f in result.files:
        if f.skipped:
            lines.append(f"  skipped {f.path}: {f.skipped}")
    if result.quarantined:
        lines.append(f"  see the rows: techcredit quarantine list --run {result.run_id}")
    if result.report_html:
        lines.append(f"  report: {result.report_html}")
    return "\n".join(lines)


def held_back_lines(result: IngestResult) -> list[str]:
    """The rows this run held back per reason class (each row once), with what brings them
    in, zh and en; nothing when none were."""
    held = result.held_back()
    if not held:
        return []
    n = sum(held.values())
    lines = [f"  隔离 held back in quarantine: {n:,} rows / {n:,} 行未载入"]
    for code, rows in held.items():
        c = BY_CODE[code]
        lines.append(f"    {rows:>10,}  {c.label()} → {c.remedy()}")
    return lines


def fault_lines(result: IngestResult) -> list[str]:
    return [f"error: {f.path}: {f.fault}" for f in result.files if f.fault]
