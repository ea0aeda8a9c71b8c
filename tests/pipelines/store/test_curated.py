"""The curated store: empty tables read as typed empty frames; one manifest makes all tables
of a run current at once; snapshots, rollback and the collection of what is not kept; each
version is plain hive-partitioned Parquet that any reader can open."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.ingest.lineage import LINEAGE
from features.settings import Settings, StoreSettings
from features.standard.schema import arrow_schema, conform
from features.standard.tables import CONTRACTS
from pipelines.store import curated as store


def test_read_curated_before_any_load_is_empty_with_standard_dtypes(tmp_path: Path) -> None:
    df = store.read_curated("contracts", Settings(home=tmp_path))
    assert list(df.columns) == CONTRACTS.column_names and df.empty
    assert df["registered_date"].dtype == "datetime64[s]" and df["amount_yuan"].dtype == "float64"
    assert pd.api.types.is_string_dtype(df["contract_id"])


def _publish_marker(s: Settings, run: str, **tables: str) -> store.StoreManifest:
    staged = {}
    for name, marker in tables.items():
        staging = store.new_version_dir(name, run, s)
        (staging / "marker").write_text(marker)
        staged[name] = (staging, {"loaded_files": {}, "rows": len(marker)})
    return store.publish(run, staged, s)


def _marker(s: Settings, name: str, snap: store.Snapshot | None = None) -> str:
    version = (snap or store.snapshot(s)).version(name)
    assert version is not None
    return (version / "marker").read_text()


@pytest.mark.parametrize("names", [
    ("v1", "v2", "v3"),
    # run ids of three runs in one second: their random suffixes sort against publishing order
    ("20261125T003245-c0ffee", "20261125T003245-b0b0b0", "20261125T003245-a11a11"),
])
def test_one_manifest_makes_a_runs_tables_current_together(
        tmp_path: Path, names: tuple[str, ...]) -> None:
    s = Settings(home=tmp_path, store=StoreSettings(keep_runs=2))
    for i, v in enumerate(names):
        m = _publish_marker(s, v, brokers=f"b{v}", contracts=f"c{v}")
        assert m.sequence == i + 1 and store.current_manifest(s) == m
        assert (_marker(s, "brokers"), _marker(s, "contracts")) == (f"b{v}", f"c{v}")
    # the last two manifests are kept, with the versions they name, and nothing else
    assert [m.run_id for m in store.manifests(s)] == [names[2], names[1]]
    assert sorted(p.name for p in store.versions_dir("brokers", s).iterdir()) == sorted(names[1:])


def test_a_snapshot_reads_the_state_it_was_taken_from(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    _publish_marker(s, "r1", brokers="old", contracts="old")
    snap = store.snapshot(s)
    _publish_marker(s, "r2", contracts="new")  # a later run changes one table only
    assert (_marker(s, "brokers", snap), _marker(s, "contracts", snap)) == ("old", "old")
    assert (_marker(s, "brokers"), _marker(s, "contracts")) == ("old", "new")


def test_rollback_restores_a_kept_state_as_a_new_version(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    _publish_marker(s, "r1", brokers="one")
    _publish_marker(s, "r2", brokers="two", contracts="two")
    m = store.rollback("r1", s)
    assert m.sequence == 3 and m.note.startswith("rollback to r1")
    assert _marker(s, "brokers") == "one" and store.current_version("contracts", s) is None
    with pytest.raises(store.RollbackError, match="r9 is not among the kept"):
        store.rollback("r9", s)
    store.rollback("r2", s)  # and forward again: r2's versions were kept
    assert _marker(s, "contracts") == "two"


def test_versions_renamed_by_a_run_killed_before_its_manifest_are_collected(
        tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    _publish_marker(s, "r1", brokers="one")
    orphan = store.versions_dir("brokers", s) / "killed"  # renamed, manifest never written
    orphan.mkdir()
    _publish_marker(s, "r2", brokers="two")
    assert not orphan.exists() and _marker(s, "brokers") == "two"


def test_leftover_staging_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    killed = store.new_version_dir("brokers", "killed", s)
    assert killed.name == "killed.staging"
    store.new_version_dir("brokers", "next", s)
    assert not killed.exists() and store.current_version("brokers", s) is None


def test_table_lock_is_exclusive(tmp_path: Path) -> None:
    import fcntl

    s = Settings(home=tmp_path)
    lock = s.curated_dir / ".locks" / "contracts.lock"
    with store.table_lock("contracts", s), open(lock) as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock) as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_curated_files_carry_lineage_and_read_back_conformed(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    staging = store.new_version_dir("contracts", "v1", s)
    row = {
        "contract_id": "C00000001", "signed_date": "2020-01-01", "registered_date": "2020-01-02",
        "contract_type": "service", "seller_id": "E0000001", "seller_kind": "enterprise",
        "seller_region": "110000", "buyer_id": "E0000002", "buyer_kind": "other",
        "buyer_region": "110000", "institution_id": None, "broker_id": None, "amount_yuan": 5.0,
        "tech_amount_yuan": 1.0, "tech_field": "other", "office_id": "OF11000001",
        "status": "registered", "status_date": pd.NaT, "status_basis": None,
    }
    table = pa.Table.from_pandas(conform(CONTRACTS, pd.DataFrame([row])),
                                 schema=arrow_schema(CONTRACTS), preserve_index=False)
    for name, typ in LINEAGE.items():
        values = (["f.csv"] if typ == pa.string() else [pd.Timestamp("2026-11-01", tz="UTC")]
                  if pa.types.is_timestamp(typ) else [2])
        table = table.append_column(name, pa.array(values, type=typ))
    (staging / "year=2020").mkdir()
    pq.write_table(table, staging / "year=2020" / "part.parquet")
    store.publish("v1", {"contracts": (staging, {"loaded_files": {}, "rows": 1})}, s)
    back = store.read_curated("contracts", s)
    assert back["contract_id"].tolist() == ["C00000001"]
    assert list(back.columns) == CONTRACTS.column_names
    assert back["registered_date"].tolist() == [pd.Timestamp("2020-01-02")]
    direct = pd.read_parquet(store.current_version("contracts", s))  # plain hive Parquet
    assert direct["_source_line"].tolist() == [2] and direct["year"].astype(int).tolist() == [2020]
