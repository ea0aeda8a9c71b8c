"""The curated store: versioned Parquet tables made current together by one manifest, the
quarantine queues beside them, and how a table's next version is written."""
