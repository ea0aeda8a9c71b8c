"""A whole ingest run without Prefect, on a corpus of bad inputs built for the purpose.

Each bad record must land in quarantine with the right reason, source file and line; each
whole-file fault must stop only its file; no good row is lost (read = loaded + quarantined).
Then: reloading adds nothing, a later export corrects a record with history kept, a run
killed before publishing leaves the store as it was, and concurrent runs serialise.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from features.standard.tables import BROKERS, INSTITUTIONS, table
from pipelines.ingest.gx_worker import GXWorker
from pipelines.store import curated as store
from pipelines.store.quarantine import read_all
from tests.pipelines.ingest_support import parties, run_ingest


def _as_csv_frame(t_name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Text as an export would carry it: dates as YYYY-MM-DD, empty for null."""
    out = df.copy()
    for c in table(t_name).columns:
        if c.dtype == "date":
            out[c.name] = out[c.name].dt.strftime("%Y-%m-%d")
    return out.astype("str").where(out.notna(), "")


# contract row -> (column changes, reason that must appear)
CONTRACT_FAULTS = {
    3: ({"amount_yuan": "-100"}, "range:amount_yuan"),
    4: ({"amount_yuan": "1e15", "tech_amount_yuan": "1"}, "range:amount_yuan"),
    5: ({"amount_yuan": "abc"}, "parse:amount_yuan: value 'abc' is not a number"),
    6: ({"contract_type": "bribery"}, "in set:contract_type: value 'bribery'"),
    7: (
        {"signed_date": "2020-12-30", "registered_date": "2020-01-02"},
        "rule signed_before_registered",
    ),
    8: ({"registered_date": "2099-01-01"}, "not in future:registered_date"),
    9: (
        {"institution_id": "I999999"},
        "foreign key:institution_id: value 'I999999' is not a known",
    ),
    10: ({"broker_id": "B9999999"}, "foreign key:broker_id"),
    11: ({"signed_date": "2020-13-45"}, "parse:signed_date: value '2020-13-45' is not a date"),
    12: ({"tech_amount_yuan": "1e9", "amount_yuan": "10"}, "rule tech_within_amount"),
}
DUPLICATED = (20, 21)  # row 21 gets row 20's id


@pytest.fixture(scope="module")
def corpus(market: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    inst = _as_csv_frame("institutions", market["institutions"])
    bad_inst = inst.iloc[[0]].assign(institution_id="I777777", level="imperial")
    inst = pd.concat([inst, bad_inst], ignore_index=True)
    inst.columns = [c.zh for c in INSTITUTIONS.columns]  # Chinese export, UTF-8 with BOM
    inst.to_csv(d / "institutions.csv", index=False, encoding="utf-8-sig")

    brk = _as_csv_frame("brokers", market["brokers"])
    brk.loc[1, "institution_id"] = "I777777"  # points at the quarantined institution: dangling
    brk.columns = [c.zh for c in BROKERS.columns]
    brk.to_csv(d / "brokers_gb.csv", index=False, encoding="gb18030")

    con = _as_csv_frame("contracts", market["contracts"].iloc[:60])
    con.loc[10, "institution_id"] = "I999999"
    for row, (changes, _) in CONTRACT_FAULTS.items():
        for col, value in changes.items():
            con.loc[row, col] = value
    con.loc[DUPLICATED[1], "contract_id"] = con.loc[DUPLICATED[0], "contract_id"]
    text = con.to_csv(index=False)
    (d / "contracts_2020.csv").write_text(
        text + "C20209999999,2020-01-01,2020-01", encoding="utf-8"
    )

    market["conduct_records"].to_parquet(d / "conduct_records.parquet")
    (d / "contracts_empty.csv").write_bytes(b"")
    (d / "contracts_missing.csv").write_text(
        "\n".join(con.drop(columns=["amount_yuan"]).to_csv(index=False).splitlines()[:3]),
        encoding="utf-8",
    )
    (d / "brokers_binary.csv").write_bytes(
        ",".join(BROKERS.column_names).encode() + b"\n\x81\xff\x00\xfe\n"
    )
    market["institution_reports"].to_parquet(d / "institution_reports.parquet")
    whole = (d / "institution_reports.parquet").read_bytes()
    (d / "institution_reports.parquet").write_bytes(whole[: len(whole) // 2])  # truncated export
    return d


def test_corpus_lands_in_the_right_places(
    corpus: Path, gx_worker: GXWorker, tmp_path: Path, market: dict[str, pd.DataFrame]
) -> None:
    s = Settings(home=tmp_path)
    run = run_ingest(tmp_path, [*sorted(corpus.iterdir()), corpus / "nowhere.csv"], gx_worker)
    files = {Path(f.path).name: f for f in run.result.files}

    faults = {n: f.fault for n, f in files.items() if f.fault}
    assert set(faults) == {
        "contracts_empty.csv",
        "contracts_missing.csv",
        "brokers_binary.csv",
        "institution_reports.parquet",
        "nowhere.csv",
    }
    assert faults["nowhere.csv"] == "no such file"
    assert "empty file" in faults["contracts_empty.csv"]
    assert "amount_yuan (合同成交额(元))" in faults["contracts_missing.csv"]
    assert "cannot be decoded" in faults["brokers_binary.csv"]
    assert "unreadable Parquet" in faults["institution_reports.parquet"]
    assert not run.result.ok
    assert store.current_version("institution_reports", s) is None  # nothing written for it

    for f in files.values():  # no good row is lost
        assert f.rows_read == f.loaded + f.quarantined
    assert files["institutions.csv"].encoding == "utf-8-sig"
    assert files["brokers_gb.csv"].encoding == "gb18030"

    n_inst = len(market["institutions"])
    assert (files["institutions.csv"].loaded, files["institutions.csv"].quarantined) == (n_inst, 1)
    assert files["brokers_gb.csv"].reasons == {"foreign key:institution_id": 1}

    con = files["contracts_2020.csv"]
    assert con.rows_read == 61
    assert con.quarantined == len(CONTRACT_FAULTS) + len(DUPLICATED) + 1  # + truncated last line
    assert len(store.read_curated("contracts", s)) == con.loaded == 61 - con.quarantined
    assert con.reasons["unique:contract_id"] == 2 and con.reasons["malformed row"] == 1

    q = read_all(s, "contracts")
    q = q[q["source_sha256"] == con.sha256]
    assert len(q) == con.quarantined and set(q["state"]) == {"open"}
    by_line = q.set_index("source_line")
    for row, (changes, reason) in CONTRACT_FAULTS.items():
        rec = by_line.loc[row + 2]  # header is line 1
        assert reason in rec["reason"], (row, rec["reason"])
        fields = json.loads(rec["fields"])
        for col, value in changes.items():
            assert fields[col] == value  # the original field as it was in the file
        assert rec["source_file"].endswith("contracts_2020.csv")
    for row in DUPLICATED:
        assert "is duplicated in the file" in by_line.loc[row + 2, "reason"]
    assert "malformed row" in by_line.loc[62, "reason"] and by_line.loc[62, "raw_text"].startswith(
        "C2020"
    )
    assert "parse:amount_yuan" in by_line.loc[5 + 2, "reason"]
    assert "not null:amount_yuan" not in by_line.loc[5 + 2, "reason"]  # reported once, as parse

    conduct = files["conduct_records.parquet"]
    assert conduct.quarantined == 0 or set(conduct.reasons) == {"foreign key:related_contract_id"}

    report = run.result
    assert report.rows_read == report.loaded + report.quarantined


def test_reload_adds_nothing_and_correction_keeps_history(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path
) -> None:
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    market["institutions"].to_parquet(src / "institutions.parquet")
    first = run_ingest(home, [src / "institutions.parquet"], gx_worker)
    s = Settings(home=home)
    before = store.read_curated("institutions", s)
    version = store.current_version("institutions", s)

    again = run_ingest(home, [src / "institutions.parquet"], gx_worker)
    assert again.result.files[0].skipped and store.current_version("institutions", s) == version

    shutil.copy(src / "institutions.parquet", src / "institutions_copy.parquet")
    assert (
        run_ingest(home, [src / "institutions_copy.parquet"], gx_worker).result.files[0].skipped
    )  # same bytes
    _as_csv_frame("institutions", market["institutions"]).to_csv(
        src / "institutions.csv", index=False
    )
    copy = run_ingest(home, [src / "institutions.csv"], gx_worker)  # same records, another export
    assert (
        copy.result.tables["institutions"].inserted,
        copy.result.tables["institutions"].unchanged,
    ) == (0, len(before))
    pd.testing.assert_frame_equal(store.read_curated("institutions", s), before)

    corrected = market["institutions"].copy()
    corrected.loc[0, "status"] = "warned"
    corrected.loc[0, "status_date"] = pd.Timestamp("2020-06-30")
    corrected.iloc[[0]].to_parquet(src / "institutions_2021.parquet")
    fix = run_ingest(home, [src / "institutions_2021.parquet"], gx_worker)
    assert fix.result.tables["institutions"].updated == 1
    now = store.read_curated("institutions", s).set_index("institution_id")
    key = corrected.loc[0, "institution_id"]
    assert now.loc[key, "status"] == "warned" and len(now) == len(before)
    hist = store.snapshot(s).history("institutions")
    assert hist["institution_id"].tolist() == [key]
    assert hist["status"].tolist() == [before.set_index("institution_id").loc[key, "status"]]
    assert hist["_run_id"].tolist() == [first.run_id] and hist["_superseded_run"].tolist() == [
        fix.run_id
    ]


def test_run_killed_before_publishing_leaves_the_store_as_it_was(
    market: dict[str, pd.DataFrame],
    gx_worker: GXWorker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    market["contracts"].iloc[:500].to_parquet(src / "contracts_a.parquet")
    market["contracts"].iloc[500:900].to_parquet(src / "contracts_b.parquet")
    run_ingest(tmp_path / "home", [*parties(market, src), src / "contracts_a.parquet"], gx_worker)
    s = Settings(home=tmp_path / "home")
    before = store.read_curated("contracts", s)

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the process dies between writing and swapping

    monkeypatch.setattr(store, "publish", killed)
    with pytest.raises(KeyboardInterrupt):
        run_ingest(tmp_path / "home", [src / "contracts_b.parquet"], gx_worker)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(store.read_curated("contracts", s), before)

    after = run_ingest(
        tmp_path / "home", [src / "contracts_b.parquet"], gx_worker
    )  # the retry completes
    assert after.result.tables["contracts"].inserted == 400
    assert len(store.read_curated("contracts", s)) == 900
    assert not list(store.versions_dir("contracts", s).glob("*.staging"))


def test_concurrent_runs_on_one_table_serialise(
    market: dict[str, pd.DataFrame], tmp_path: Path, gx_worker: GXWorker
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    parts = [market["contracts"].iloc[i * 300 : (i + 1) * 300] for i in range(2)]
    for i, part in enumerate(parts):
        part.to_parquet(src / f"contracts_{i}.parquet")
    home = tmp_path / "home"
    run_ingest(home, parties(market, src), gx_worker)
    errors: list[BaseException] = []

    def load(i: int) -> None:
        try:
            run_ingest(home, [src / f"contracts_{i}.parquet"], gx_worker)  # one worker, two runs
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cur = store.read_curated("contracts", Settings(home=home))
    assert sorted(cur["contract_id"]) == sorted(pd.concat(parts)["contract_id"])
    manifest = store.read_table_manifest(store.current_version("contracts", Settings(home=home)))
    assert len(manifest["loaded_files"]) == 2 and manifest["rows"] == 600
