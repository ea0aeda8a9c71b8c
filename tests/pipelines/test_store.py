"""The curated store: empty tables read as typed empty frames; publishing swaps versions
atomically; the store is plain hive-partitioned Parquet that any reader can open."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.ingest.lineage import LINEAGE
from features.settings import Settings
from features.standard.schema import arrow_schema, conform
from features.standard.tables import CONTRACTS
from pipelines import store


def test_read_curated_before_any_load_is_empty_with_standard_dtypes(tmp_path: Path) -> None:
    df = store.read_curated("contracts", Settings(home=tmp_path))
    assert list(df.columns) == CONTRACTS.column_names and df.empty
    assert df["registered_date"].dtype == "datetime64[s]" and df["amount_yuan"].dtype == "float64"
    assert pd.api.types.is_string_dtype(df["contract_id"])


@pytest.mark.parametrize("names", [
    ("v1", "v2", "v3"),
    # run ids of three runs in one second: their random suffixes sort against publishing order
    ("20261125T003245-c0ffee", "20261125T003245-b0b0b0", "20261125T003245-a11a11"),
])
def test_publish_swaps_versions_and_keeps_the_new_one_and_its_predecessor(
        tmp_path: Path, names: tuple[str, ...]) -> None:
    s = Settings(home=tmp_path)
    for v in names:
        staging = store.new_version_dir("brokers", v, s)
        (staging / "marker").write_text(v)
        store.publish("brokers", staging, {"loaded_files": {}, "rows": 0}, s)
        assert store.current_version("brokers", s).name == v
        assert (store.table_link("brokers", s) / "marker").read_text() == v
    assert sorted(p.name for p in store.versions_dir("brokers", s).iterdir()) == sorted(names[1:])


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
        "status": "registered", "status_date": pd.NaT,
    }
    table = pa.Table.from_pandas(conform(CONTRACTS, pd.DataFrame([row])),
                                 schema=arrow_schema(CONTRACTS), preserve_index=False)
    for name, typ in LINEAGE.items():
        values = ["f.csv"] if typ == pa.string() else [2]
        table = table.append_column(name, pa.array(values, type=typ))
    (staging / "year=2020").mkdir()
    pq.write_table(table, staging / "year=2020" / "part.parquet")
    store.publish("contracts", staging, {"loaded_files": {}, "rows": 1}, s)
    back = store.read_curated("contracts", s)
    assert back["contract_id"].tolist() == ["C00000001"]
    assert list(back.columns) == CONTRACTS.column_names
    assert back["registered_date"].tolist() == [pd.Timestamp("2020-01-02")]
    direct = pd.read_parquet(store.table_link("contracts", s))
    assert direct["_source_line"].tolist() == [2] and direct["year"].astype(int).tolist() == [2020]
