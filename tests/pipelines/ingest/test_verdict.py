"""How an ingest run ends: a refused file is exit 1 whatever else happened; held-back rows
are exit 3 with one line naming the run, unless allowed; otherwise 0."""

from __future__ import annotations

from features.ingest.outcome import FileReport, IngestResult
from pipelines.ingest.verdict import FILE_REFUSED, HELD_BACK, OK, verdict


def _result(*files: FileReport) -> IngestResult:
    return IngestResult("20261201T000000-abc123", "2026-12-01T00:00:00+00:00", files=list(files))


def test_exit_codes() -> None:
    clean = _result(FileReport("a.csv", "brokers", rows_read=3, loaded=3))
    held = _result(FileReport("a.csv", "brokers", rows_read=3, loaded=1, quarantined=2,
                              held_back={"validation": 2}))
    refused = _result(FileReport("a.csv", "brokers", rows_read=3, loaded=1, quarantined=2),
                      FileReport("b.csv", fault="no such file"))
    assert verdict(clean, allow_quarantine=False).code == OK
    assert verdict(clean, allow_quarantine=False).message is None
    stopped = verdict(held, allow_quarantine=False)
    assert stopped.code == HELD_BACK == 3
    assert stopped.message is not None and len(stopped.message.splitlines()) == 1
    assert "2 rows held back in quarantine (exit 3) / 2 行被隔离" in stopped.message
    assert "techcredit quarantine list --run 20261201T000000-abc123" in stopped.message
    assert verdict(held, allow_quarantine=True).code == OK
    assert verdict(refused, allow_quarantine=False).code == FILE_REFUSED == 1
    assert verdict(refused, allow_quarantine=True).code == FILE_REFUSED
    assert held.held_back() == {"validation": 2}
