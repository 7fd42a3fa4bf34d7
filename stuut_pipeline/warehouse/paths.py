"""Where the warehouse lives under the data directory: the DuckDB file and the Parquet marts."""

from __future__ import annotations

from pathlib import Path

from stuut_pipeline.paths import PARTITION_COLUMN, checked_workflow_id

#: Name of every mart file: one file per workflow partition, replaced whole on each export.
MART_FILE = "part-0.parquet"


def default_db_path(data_dir: Path) -> Path:
    """`<data>/warehouse/stuut.duckdb`: the database analysts open."""
    return Path(data_dir) / "warehouse" / "stuut.duckdb"


def marts_root(data_dir: Path) -> Path:
    """`<data>/marts`: every rollup exported as Hive-partitioned Parquet."""
    return Path(data_dir) / "marts"


def mart_dir(data_dir: Path, rollup: str, workflow_id: str) -> Path:
    """`<data>/marts/<rollup>/workflow_id=<id>/`: the one directory of a rollup partition."""
    return marts_root(data_dir) / rollup / f"{PARTITION_COLUMN}={checked_workflow_id(workflow_id)}"


def mart_glob(data_dir: Path, rollup: str) -> str:
    """Glob of every mart file of a rollup (for `read_parquet(..., hive_partitioning=true)`)."""
    return str(marts_root(data_dir) / rollup / "*" / "*.parquet")
