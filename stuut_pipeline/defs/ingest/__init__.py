"""Ingest: fetch calls per workflow, land them raw, flatten them into typed Parquet."""
