"""The daily flow: what counts as waiting in the inbox, where files go after, which month end
is due, and a real run on an empty day and on a day with only a refused file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from features.settings import Settings, get_settings
from pipelines.daily import (
    DailySummary,
    daily_flow,
    inbox_dir,
    latest_month_end,
    move_done,
    waiting_files,
)


def test_the_latest_month_end_is_the_month_the_data_has_finished() -> None:
    assert latest_month_end(date(2026, 11, 25)) == date(2026, 10, 31)
    assert latest_month_end(date(2026, 10, 31)) == date(2026, 10, 31)
    assert latest_month_end(date(2024, 3, 1)) == date(2024, 2, 29)


def test_only_delivered_files_wait_and_they_leave_the_inbox_after(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert waiting_files(settings) == []  # no inbox yet
    inbox = inbox_dir(settings)
    (inbox / "done").mkdir(parents=True)
    for name in ("contracts_2026-11.csv", ".brokers.csv.part", "brokers_2026-11.csv"):
        (inbox / name).write_text("x", encoding="utf-8")
    files = waiting_files(settings)
    assert [f.name for f in files] == ["brokers_2026-11.csv", "contracts_2026-11.csv"]
    move_done(settings, files, date(2026, 11, 2), "done")
    assert waiting_files(settings) == []
    assert sorted(p.name for p in (inbox / "done" / "2026-11-02").iterdir()) == [
        "brokers_2026-11.csv", "contracts_2026-11.csv"]


def test_an_empty_day_says_so() -> None:
    lines = DailySummary(date(2026, 11, 2)).lines
    assert lines[1].endswith("nothing new in the inbox: no ingest, features or scoring")
    assert lines[-1].startswith("案件 sweep: 0 case(s)")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A migrated database and nothing else: no store, no models."""
    from service.core.db.engine import make_engine
    from service.core.db.migrate import upgrade

    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path))
    monkeypatch.delenv("TECHCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    engine.dispose()
    yield settings
    get_settings.cache_clear()


@pytest.mark.e2e
def test_a_day_with_an_empty_inbox_only_sweeps(home: Settings) -> None:
    summary = daily_flow("2026-11-02")
    assert summary.ingested == summary.rejected == []
    assert summary.features_as_of is None and summary.scored_as_of is None
    assert summary.swept == 0 and summary.notes == []


@pytest.mark.e2e
def test_a_refused_file_is_kept_apart_and_nothing_is_built(home: Settings) -> None:
    inbox = inbox_dir(home)
    inbox.mkdir()
    (inbox / "unknown_table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    summary = daily_flow("2026-11-02")
    assert summary.rejected == ["unknown_table.csv"] and summary.ingested == []
    assert summary.features_as_of is None and summary.scored_as_of is None
    assert (inbox / "rejected" / "2026-11-02" / "unknown_table.csv").is_file()
    assert waiting_files(home) == []
