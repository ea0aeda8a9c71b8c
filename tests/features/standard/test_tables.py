"""The data standard: declarations, generated docs, and the physical schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.docs import render_data_standard
from features.standard.enums import CONTRACT_TYPE
from features.standard.schema import arrow_schema, conform
from features.standard.tables import TABLES, table

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_docs_are_generated_from_the_declarations() -> None:
    assert (DOCS / "data-standard.md").read_text(encoding="utf-8") == render_data_standard(), (
        "docs/data-standard.md is stale: run `techcredit docs`"
    )


def test_contracts_cover_the_columns_the_brief_requires() -> None:
    required = [
        "contract_id", "signed_date", "registered_date", "contract_type", "seller_id",
        "seller_kind", "seller_region", "buyer_id", "buyer_kind", "buyer_region",
        "institution_id", "broker_id", "amount_yuan", "tech_amount_yuan", "tech_field",
        "office_id", "status",
    ]
    assert set(required) <= set(table("contracts").column_names)
    assert CONTRACT_TYPE.codes == ["development", "transfer", "licensing", "consulting", "service"]
    assert CONTRACT_TYPE.label("transfer") == "技术转让"


def test_every_column_has_both_languages() -> None:
    for t in TABLES.values():
        for c in t.columns:
            assert c.zh and c.en, f"{t.name}.{c.name}"
        assert t.key in t.column_names


def test_unknown_table_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="unknown table 'contract'.*contracts"):
        table("contract")


def test_written_files_use_the_declared_schema(small_market_dir: Path) -> None:
    for name, t in TABLES.items():
        schema = pq.read_schema(small_market_dir / f"{name}.parquet")
        assert schema.remove_metadata().equals(arrow_schema(t)), name


def test_conform_round_trips_a_parquet_file(small_market_dir: Path) -> None:
    df = conform(table("contracts"), pd.read_parquet(small_market_dir / "contracts.parquet"))
    assert str(df["registered_date"].dtype) == "datetime64[s]"
    assert pd.api.types.is_string_dtype(df["broker_id"]) and df["broker_id"].isna().any()
    assert pd.api.types.is_float_dtype(df["amount_yuan"])
